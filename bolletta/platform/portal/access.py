"""The customer's session: which tickets this browser opened, and when it was last active."""

from __future__ import annotations

from typing import Any

from litestar import Request
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Bill, Instalment, Payment, Ticket
from bolletta.platform.payments.service import PENDING_RECHECK_AFTER
from bolletta.platform.tickets.tokens import is_usable

IDLE_LIMIT_SECONDS = 30 * 60
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
    """Record activity so the idle limit starts again."""
    session = dict(request.session or {})
    session["seen"] = int(clock.now().timestamp())
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


async def bill_state_for_session(
    request: Request[Any, Any, Any], session: AsyncSession, tenant: str, public_id: str
) -> tuple[Bill, Ticket, tuple[Any, ...]] | None:
    """Like :func:`bill_for_session`, with the bill's payment state in the same query.

    The state is what a page shows of the payments: the paid time, the unpaid instalments, the
    number of attempts, the latest change of any attempt, and the attempts still being verified.
    """
    recent = clock.now() - PENDING_RECHECK_AFTER
    unpaid = (select(func.count()).select_from(Instalment)
              .where(Instalment.bill_id == Bill.id, Instalment.paid_at.is_(None)).scalar_subquery())
    attempts = select(func.count()).select_from(Payment).where(Payment.bill_id == Bill.id).scalar_subquery()
    changed = select(func.max(Payment.updated_at)).where(Payment.bill_id == Bill.id).scalar_subquery()
    verifying = (select(func.count()).select_from(Payment)
                 .where(Payment.bill_id == Bill.id, Payment.status.in_(("created", "pending")),
                        Payment.created_at > recent).scalar_subquery())
    query = _session_bills(request, tenant, public_id, unpaid, attempts, changed, verifying)
    if query is None:
        return None
    for row in (await session.execute(query)).all():
        if is_usable(row.Ticket):
            bill = row.Bill
            return bill, row.Ticket, (bill.paid_at, row[2], row[3], str(row[4]), row[5])
    return None
