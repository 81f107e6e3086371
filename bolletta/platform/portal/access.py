"""The customer's session: which tickets this browser opened, and when it was last active."""

from __future__ import annotations

import asyncio
import logging
from functools import cache
from typing import Any

from litestar import Request
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bolletta.platform import clock
from bolletta.platform.db.database import Database
from bolletta.platform.db.models.tenant import Bill, Contact, Instalment, Payment, Ticket
from bolletta.platform.payments.service import PENDING_RECHECK_AFTER
from bolletta.platform.portal import access_cache
from bolletta.platform.portal.access_cache import BillAccess
from bolletta.platform.tickets.tokens import is_usable

logger = logging.getLogger(__name__)

IDLE_LIMIT_SECONDS = 30 * 60
TOUCH_INTERVAL_SECONDS = 60
"""Activity newer than this is not written to the session again, so most pages send no new cookie."""
MAX_TICKETS_PER_SESSION = 20


def remember_ticket(request: Request[Any, Any, Any], tenant: str, ticket_id: int) -> None:
    """Add the ticket to the session cookie (most recent last, at most 20 kept)."""
    session = dict(request.session or {})
    opened = dict(session.get("tickets", {}))
    ids = [value for value in opened.get(tenant, []) if value != ticket_id]
    ids.append(ticket_id)
    opened[tenant] = ids[-MAX_TICKETS_PER_SESSION:]
    session["tickets"] = opened
    session["seen"] = int(clock.now().timestamp())
    request.set_session(session)


def session_ticket_ids(request: Request[Any, Any, Any], tenant: str) -> list[int]:
    """Tickets this browser opened for ``tenant``; none once the session was idle 30 minutes."""
    session = request.session or {}
    seen = session.get("seen")
    if not isinstance(seen, int) or clock.now().timestamp() - seen > IDLE_LIMIT_SECONDS:
        return []
    ids = session.get("tickets", {}).get(tenant, [])
    return [value for value in ids if isinstance(value, int)]


def touch(request: Request[Any, Any, Any]) -> None:
    """Record activity so the idle limit starts again, unless it was recorded in the last minute."""
    now = int(clock.now().timestamp())
    seen = (request.session or {}).get("seen")
    if isinstance(seen, int) and 0 <= now - seen < TOUCH_INTERVAL_SECONDS:
        return
    session = dict(request.session or {})
    session["seen"] = now
    request.set_session(session)


def _session_bills(request: Request[Any, Any, Any], tenant: str, public_id: str, *columns: Any) -> Select[Any] | None:
    ids = session_ticket_ids(request, tenant)
    if not ids:
        return None
    return (
        select(Bill, Ticket, *columns)
        .join(Ticket, Ticket.bill_id == Bill.id)
        .where(Bill.public_id == public_id, Ticket.id.in_(ids))
        .order_by(Ticket.id.desc())
    )


async def bill_for_session(
    request: Request[Any, Any, Any], session: AsyncSession, tenant: str, public_id: str
) -> tuple[Bill, Ticket] | None:
    """Return the bill and the newest usable ticket through which this browser may see it, else ``None``.

    The tickets are read again on every page, so expiry and revocation take effect at once. A
    browser that opened two links of one bill keeps access while either of them is usable.
    """
    query = _session_bills(request, tenant, public_id)
    if query is None:
        return None
    for row in (await session.execute(query)).all():
        if is_usable(row.Ticket):
            return row.Bill, row.Ticket
    return None


async def bill_access(
    request: Request[Any, Any, Any], db: Database, tenant: str, public_id: str, *, fresh: bool = False
) -> BillAccess | None:
    """Return what a bill page needs about the session's newest usable ticket for the bill, else ``None``.

    The result comes from :mod:`access_cache` when this process read it less than a few seconds ago
    and nothing of the tenant changed here since. The ticket's expiry is checked on every call.
    Otherwise, or with ``fresh``, one query reads the tickets, the bill, its payment state and the
    customer's language, and the result is stored.
    """
    ids = tuple(session_ticket_ids(request, tenant))
    if not ids:
        return None
    if not fresh:
        cached = access_cache.get(tenant, public_id, ids)
        if cached is not None and cached[0].usable():
            access, stale = cached
            if stale and (tenant, public_id, ids) not in _refreshing:
                _refreshing[(tenant, public_id, ids)] = asyncio.get_running_loop().create_task(
                    _refresh(db, tenant, public_id, ids))
            return access
    return await _read_and_store(db, tenant, public_id, ids)


_refreshing: dict[tuple[str, str, tuple[int, ...]], asyncio.Task[None]] = {}
"""Background reads in progress, one per session and bill (the dict also keeps their tasks alive)."""


async def _read_and_store(db: Database, tenant: str, public_id: str, ids: tuple[int, ...]) -> BillAccess | None:
    read_generation = access_cache.generation(tenant)
    async with db.tenant_async_session(tenant) as session:
        found = await _read_access(session, ids, public_id)
    if found is None:
        access_cache.forget(tenant, public_id, ids)
    else:
        access_cache.put(tenant, public_id, ids, read_generation, found)
    return found


async def _refresh(db: Database, tenant: str, public_id: str, ids: tuple[int, ...]) -> None:
    try:
        await _read_and_store(db, tenant, public_id, ids)
    except Exception:  # the entry then simply ends at its age limit and the next page reads again
        logger.exception("tenant %s: reading a session's bill access in the background failed", tenant)
    finally:
        _refreshing.pop((tenant, public_id, ids), None)


@cache
def _access_query() -> Select[Any]:
    """Build the query of :func:`_read_access` once; it takes ``ids``, ``public_id`` and ``recent``.

    The payment state is what a page shows of the payments: the paid time, the unpaid instalments,
    the number of attempts, the latest change of any attempt, and the attempts still being verified.
    """
    unpaid = (select(func.count()).select_from(Instalment)
              .where(Instalment.bill_id == Bill.id, Instalment.paid_at.is_(None)).scalar_subquery())
    attempts = select(func.count()).select_from(Payment).where(Payment.bill_id == Bill.id).scalar_subquery()
    changed = select(func.max(Payment.updated_at)).where(Payment.bill_id == Bill.id).scalar_subquery()
    verifying = (select(func.count()).select_from(Payment)
                 .where(Payment.bill_id == Bill.id, Payment.status.in_(("created", "pending")),
                        Payment.created_at > bindparam("recent")).scalar_subquery())
    contact_language = (
        select(Contact.language)
        .where(Contact.customer_code == Bill.customer_code, Contact.channel == Ticket.channel,
               Contact.address == Ticket.address, Contact.language.is_not(None))
        .order_by(Contact.id.desc()).limit(1).scalar_subquery()
    )
    return (
        select(Bill.id, Bill.paid_at, Bill.language, Ticket.id.label("ticket_id"), Ticket.channel, Ticket.expires_at,
               Ticket.revoked_at, Ticket.first_viewed_at, unpaid, attempts, changed, verifying, contact_language)
        .join(Ticket, Ticket.bill_id == Bill.id)
        .where(Bill.public_id == bindparam("public_id"), Ticket.id.in_(bindparam("ids", expanding=True)))
        .order_by(Ticket.id.desc())
    )


async def _read_access(session: AsyncSession, ids: tuple[int, ...], public_id: str) -> BillAccess | None:
    """Read the newest usable ticket of ``ids`` for the bill, with the bill's payment state, in one query."""
    parameters = {"ids": list(ids), "public_id": public_id, "recent": clock.now() - PENDING_RECHECK_AFTER}
    for row in (await session.execute(_access_query(), parameters)).all():
        access = BillAccess(
            bill_id=row[0], public_id=public_id, bill_language=row[2], ticket_id=row[3], channel=row[4],
            expires_at=row[5], revoked_at=row[6], first_viewed=row[7] is not None,
            payment_state=(row[1], row[8], row[9], str(row[10]), row[11]), customer_language=row[2] or row[12],
        )
        if access.usable():
            return access
    return None
