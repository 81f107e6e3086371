"""Tenant admin pages: the audit log, searchable and read-only."""

from __future__ import annotations

from typing import Any

import anyio
from litestar import Request, Response, Router, get
from sqlalchemy import and_, func, select

from bolletta.platform.db.models.tenant import AuditEntry
from bolletta.platform.office.access import page, require_admin, staff_of
from bolletta.platform.office.listing import Query, link, read_paging, rome_range
from bolletta.platform.office.routes import _tenant
from bolletta.platform.web.context import rt

AUDIT_FIELDS = ("action", "actor", "date_from", "date_to")


async def search_tenant_audit(slug: str, query: Query, paging: Any) -> tuple[int, list[AuditEntry]]:
    """Return the count and one page of a tenant's audit entries matching the query's action (its
    start), actor (part of it) and Europe/Rome dates; nothing when the query has errors."""
    action, actor = query.text("action", 80), query.text("actor", 200)
    first, last = query.day("date_from"), query.day("date_to")
    conditions: list[Any] = []
    if action:
        conditions.append(AuditEntry.action.like(f"{action}%"))
    if actor:
        conditions.append(AuditEntry.actor.like(f"%{actor}%"))
    if first or last:
        start, end = rome_range(first or last, last or first)  # type: ignore[arg-type]
        conditions += [AuditEntry.at >= start, AuditEntry.at < end]
    if query.errors:
        return 0, []

    def run() -> tuple[int, list[AuditEntry]]:
        with rt().db.tenant_session(slug) as session:
            where = and_(True, *conditions)
            total = session.scalar(select(func.count(AuditEntry.id)).where(where)) or 0
            order = AuditEntry.id.desc() if paging.descending else AuditEntry.id.asc()
            rows = list(session.scalars(select(AuditEntry).where(where).order_by(order)
                                        .limit(paging.size).offset(paging.offset)))
            session.expunge_all()
            return total, rows

    return await anyio.to_thread.run_sync(run)


@get("/audit", name="office:audit", guards=[require_admin])
async def audit_log(request: Request[Any, Any, Any]) -> Response[str]:
    """Search the tenant's audit log by action, actor and date; the log itself is append-only."""
    tenant = await _tenant(staff_of(request))
    query = Query(dict(request.query_params))
    paging = read_paging(query, ("at",), "at")
    total, rows = await search_tenant_audit(tenant.slug, query, paging)
    params = {name: query.params[name] for name in AUDIT_FIELDS if query.params.get(name)}
    direction = "desc" if paging.descending else "asc"
    return page(request, "office/audit.html", tenant, rows=rows, total=total, paging=paging,
                pages=paging.pages(total), params={**params, "sort": "at", "dir": direction},
                link=link, errors=query.errors, filters=params)


def admin_router() -> Router:
    """Build the tenant admin routes under ``/office``."""
    return Router(path="/office", route_handlers=[audit_log])
