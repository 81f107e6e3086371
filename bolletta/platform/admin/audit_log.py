"""The platform audit log, read-only: platform admins' actions, filtered and paginated.

Entries about one tenant name its slug as their target, so the tenant filter matches the target.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import anyio
from litestar import Request, Response, Router, get
from sqlalchemy import and_, func, select

from bolletta.platform.admin.access import admin_page, require_platform_admin
from bolletta.platform.db.models.platform import PlatformAuditEntry
from bolletta.platform.office.listing import Paging, Query, link, read_paging, rome_start
from bolletta.platform.runtime import Runtime
from bolletta.platform.web.context import rt

AUDIT_FIELDS = ("actor", "action", "tenant", "date_from", "date_to")


@dataclass(frozen=True)
class AuditFilter:
    """Filters of the platform audit page, each ``None`` when not set."""

    actor: str | None = None
    """Part of the actor, such as a username."""
    action: str | None = None
    """The start of the action, such as ``channel.`` or ``admin.sign_in``."""
    tenant: str | None = None
    """A tenant's slug, matched exactly against the entry's target."""
    first: date | None = None
    """The first Europe/Rome day; ``None`` for no lower bound."""
    last: date | None = None
    """The last Europe/Rome day, included; ``None`` for no upper bound."""


def search_audit(runtime: Runtime, where: AuditFilter, paging: Paging) -> tuple[int, list[PlatformAuditEntry]]:
    """Return how many platform audit entries match and the entries of the requested page."""
    conditions: list[Any] = []
    if where.actor:
        conditions.append(PlatformAuditEntry.actor.like(f"%{where.actor}%"))
    if where.action:
        conditions.append(PlatformAuditEntry.action.like(f"{where.action}%"))
    if where.tenant:
        conditions.append(PlatformAuditEntry.target == where.tenant)
    if where.first:
        conditions.append(PlatformAuditEntry.at >= rome_start(where.first))
    if where.last:
        conditions.append(PlatformAuditEntry.at < rome_start(where.last + timedelta(days=1)))
    with runtime.db.platform_session() as session:
        condition = and_(True, *conditions)
        total = session.scalar(select(func.count(PlatformAuditEntry.id)).where(condition)) or 0
        order = ((PlatformAuditEntry.at.desc(), PlatformAuditEntry.id.desc()) if paging.descending
                 else (PlatformAuditEntry.at.asc(), PlatformAuditEntry.id.asc()))
        rows = list(session.scalars(select(PlatformAuditEntry).where(condition).order_by(*order)
                                    .limit(paging.size).offset(paging.offset)))
        session.expunge_all()
    return total, rows


@get("/admin/audit", name="admin:audit", guards=[require_platform_admin])
async def audit_page(request: Request[Any, Any, Any]) -> Response[str]:
    """Search the platform audit log by actor, action, tenant and date range."""
    query = Query(dict(request.query_params))
    where = AuditFilter(actor=query.text("actor", 200), action=query.text("action", 80),
                        tenant=query.text("tenant", 40), first=query.day("date_from"), last=query.day("date_to"))
    paging = read_paging(query, ("at",), "at")
    total, rows = (0, []) if query.errors else await anyio.to_thread.run_sync(search_audit, rt(), where, paging)
    params = {name: query.params[name] for name in AUDIT_FIELDS if query.params.get(name)}
    return admin_page(request, "admin/audit.html", rows=rows, total=total, paging=paging, pages=paging.pages(total),
                      params=params, link=link, errors=query.errors, filters=params)


def audit_router() -> Router:
    """Build the platform audit log route."""
    return Router(path="/", route_handlers=[audit_page])
