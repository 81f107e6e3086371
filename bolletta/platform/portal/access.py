"""The customer's session: which tickets this browser opened, and when it was last active."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import cache
from typing import Any

from litestar import Request
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

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
            if stale:
                _queue_refresh(db, tenant, public_id, ids)
            return access
    return await _read_and_store(db, tenant, public_id, ids)


SessionKey = tuple[str, tuple[int, ...]]
"""A bill's public id and the ticket ids of the session reading it."""

REFRESH_BATCH_WAIT_SECONDS = 0.5
"""How long the reader collects stale sessions before it reads them all at once, unless a request
starts waiting for a read."""
_pending: dict[str, dict[SessionKey, list[asyncio.Future[BillAccess | None]]]] = {}
"""Sessions of each tenant waiting for a read, with the futures of the requests waiting for them (none
for a background read of a stale entry)."""
_readers: dict[asyncio.AbstractEventLoop, tuple[asyncio.Task[None], asyncio.Event]] = {}
"""The reader task of each event loop, held so the task stays alive, and the event that wakes it
when a request waits."""


def _queue_refresh(db: Database, tenant: str, public_id: str, ids: tuple[int, ...]) -> None:
    """Queue a background read of a session's access, and start the reader unless it runs."""
    _pending.setdefault(tenant, {}).setdefault((public_id, ids), [])
    _start_reader(db)


async def _read_and_store(db: Database, tenant: str, public_id: str, ids: tuple[int, ...]) -> BillAccess | None:
    """Read a session's access now, in the same query as the other sessions read at this moment.

    Concurrent requests share one connection and one query, so a burst of new sessions does not
    open more connections than the pool keeps.
    """
    future: asyncio.Future[BillAccess | None] = asyncio.get_running_loop().create_future()
    _pending.setdefault(tenant, {}).setdefault((public_id, ids), []).append(future)
    _start_reader(db).set()
    return await future


def _start_reader(db: Database) -> asyncio.Event:
    """Start the running loop's reader unless it runs; return the event that wakes it."""
    loop = asyncio.get_running_loop()
    if loop not in _readers:
        wake = asyncio.Event()
        _readers[loop] = (loop.create_task(_read_pending(db, loop, wake)), wake)
    return _readers[loop][1]


async def _read_pending(db: Database, loop: asyncio.AbstractEventLoop, wake: asyncio.Event) -> None:
    """Read the queued sessions, one query per tenant, until none is queued."""
    try:
        while _pending:
            # Stale sessions wait a moment for others, so one query serves many. A request that
            # waits wakes the reader, and only the requests that arrived with it join its query.
            if not wake.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), REFRESH_BATCH_WAIT_SECONDS)
            await asyncio.sleep(0)
            wake.clear()
            for tenant in list(_pending):
                await _read_tenant(db, tenant, _pending.pop(tenant))
    finally:
        _readers.pop(loop, None)


async def _read_tenant(db: Database, tenant: str,
                       keys: dict[SessionKey, list[asyncio.Future[BillAccess | None]]]) -> None:
    try:
        found = await _read_and_store_many(db, tenant, set(keys))
    except Exception as exc:
        waiting = [future for futures in keys.values() for future in futures if not future.done()]
        if not waiting:  # background reads only: the entries end at their age limit, and pages read again
            logger.exception("tenant %s: reading %d sessions' bill access in the background failed",
                             tenant, len(keys))
        for future in waiting:
            future.set_exception(exc)
        return
    for key, futures in keys.items():
        for future in futures:
            if not future.done():
                future.set_result(found[key])


async def _read_and_store_many(db: Database, tenant: str,
                               keys: set[SessionKey]) -> dict[SessionKey, BillAccess | None]:
    """Read the access of each session in ``keys`` with one query and store it; forget those that lost it."""
    read_generation = access_cache.generation(tenant)
    async with db.tenant_async_session(tenant) as session:
        found = await _read_access(session, keys)
    for (public_id, ids), access in found.items():
        if access is None:
            access_cache.forget(tenant, public_id, ids)
        else:
            access_cache.put(tenant, public_id, ids, read_generation, access)
    return found


def _payment_state_columns() -> list[Any]:
    """Columns of what a page shows of a bill's payments; ``recent`` is a bind parameter.

    They are the paid time, the unpaid instalments, the number of attempts, the latest change of
    any attempt, and the attempts still being verified.
    """
    unpaid = (select(func.count()).select_from(Instalment)
              .where(Instalment.bill_id == Bill.id, Instalment.paid_at.is_(None)).scalar_subquery())
    attempts = select(func.count()).select_from(Payment).where(Payment.bill_id == Bill.id).scalar_subquery()
    changed = select(func.max(Payment.updated_at)).where(Payment.bill_id == Bill.id).scalar_subquery()
    verifying = (select(func.count()).select_from(Payment)
                 .where(Payment.bill_id == Bill.id, Payment.status.in_(("created", "pending")),
                        Payment.created_at > bindparam("recent")).scalar_subquery())
    return [Bill.paid_at, unpaid, attempts, changed, verifying]


def payment_state(paid_at: Any, unpaid: Any, attempts: Any, changed: Any, verifying: Any) -> tuple[Any, ...]:
    """Return the ``BillAccess.payment_state`` of the values of :func:`_payment_state_columns`."""
    return (paid_at, unpaid, attempts, str(changed), verifying)


@cache
def _access_query() -> Select[Any]:
    """Build the query of :func:`_read_access` once; it takes ``ids``, ``public_ids`` and ``recent``."""
    contact_language = (
        select(Contact.language)
        .where(Contact.customer_code == Bill.customer_code, Contact.channel == Ticket.channel,
               Contact.address == Ticket.address, Contact.language.is_not(None))
        .order_by(Contact.id.desc()).limit(1).scalar_subquery()
    )
    return (
        select(Bill.id, Bill.language, Ticket.id.label("ticket_id"), Ticket.channel, Ticket.expires_at,
               Ticket.revoked_at, Ticket.first_viewed_at, contact_language, Bill.public_id, *_payment_state_columns())
        .join(Ticket, Ticket.bill_id == Bill.id)
        .where(Bill.public_id.in_(bindparam("public_ids", expanding=True)),
               Ticket.id.in_(bindparam("ids", expanding=True)))
        .order_by(Ticket.id.desc())
    )


@cache
def _bill_states_query() -> Select[Any]:
    """Build the query of :func:`bill_states` once; it takes ``bill_ids`` and ``recent``."""
    return (select(Bill.id, Bill.public_id, Bill.language, *_payment_state_columns())
            .where(Bill.id.in_(bindparam("bill_ids", expanding=True))))


def bill_states(session: Session, bill_ids: list[int]) -> dict[int, tuple[str, str | None, tuple[Any, ...]]]:
    """Return each bill's public id, language from the flow and payment state, as a page key contains it."""
    parameters = {"bill_ids": bill_ids, "recent": clock.now() - PENDING_RECHECK_AFTER}
    return {row[0]: (row[1], row[2], payment_state(*row[3:])) for row in session.execute(_bill_states_query(),
                                                                                          parameters)}


async def _read_access(session: AsyncSession, keys: set[SessionKey]) -> dict[SessionKey, BillAccess | None]:
    """Read, for each session, the newest usable ticket of its ids for the bill, with the bill's payment
    state, in one query for all sessions."""
    parameters = {"ids": sorted({ticket_id for _public_id, ids in keys for ticket_id in ids}),
                  "public_ids": sorted({public_id for public_id, _ids in keys}),
                  "recent": clock.now() - PENDING_RECHECK_AFTER}
    by_ticket: dict[tuple[str, int], BillAccess] = {}
    for row in (await session.execute(_access_query(), parameters)).all():
        by_ticket[(row[8], row[2])] = BillAccess(
            bill_id=row[0], public_id=row[8], bill_language=row[1], ticket_id=row[2], channel=row[3],
            expires_at=row[4], revoked_at=row[5], first_viewed=row[6] is not None,
            payment_state=payment_state(*row[9:]), customer_language=row[1] or row[7],
        )
    found: dict[SessionKey, BillAccess | None] = {}
    for public_id, ids in keys:
        usable = (by_ticket.get((public_id, ticket_id)) for ticket_id in sorted(ids, reverse=True))
        found[(public_id, ids)] = next((access for access in usable if access is not None and access.usable()), None)
    return found
