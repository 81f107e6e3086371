"""The bill and ticket a browser session may see, kept in memory for a few seconds.

A bill page needs the session's newest usable ticket for the bill, the bill's payment state and the
customer's language. They change rarely, so each web process keeps them per session for
:data:`SESSION_CACHE_SECONDS`, and a page served from here makes no database trip. Every hit checks
the ticket's expiry against the clock, so an expired link stops working at once. Any commit in this
process that changes a ticket, bill, payment or instalment of a tenant drops all of that tenant's
entries (a per-tenant generation), so a revocation or a payment shows on the next request here.
Other processes see such a change when their entry ends, after at most
:data:`SESSION_CACHE_SECONDS`.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Delete, Update, event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Bill, Instalment, Payment, Ticket
from bolletta.platform.portal.cache import PageCache

SESSION_CACHE_SECONDS = 5.0
"""Maximum age of an entry: another process shows a ticket or payment change made elsewhere within it."""
REFRESH_AFTER_SECONDS = 2.0
"""Age after which a hit also starts a background read, so a session active every few seconds rarely waits."""
MAX_ENTRIES = 20_000
"""Sessions kept per process; an entry is a few hundred bytes."""

WATCHED = (Ticket, Bill, Payment, Instalment)
_WATCHED_TABLES = frozenset(model.__tablename__ for model in WATCHED)
_CHANGED_KEY = "portal_access_changed"
QUIET_KEY = "portal_access_quiet"
"""Session info flag of writes that change nothing a page shows (the first view's time)."""


@dataclass(frozen=True)
class BillAccess:
    """The facts a bill page needs about the session's ticket and the bill, as plain values."""

    bill_id: int
    public_id: str
    bill_language: str | None
    ticket_id: int
    channel: str
    expires_at: datetime
    revoked_at: datetime | None
    first_viewed: bool
    payment_state: tuple[Any, ...]
    """Everything of the payments a page shows (see ``access.bill_state_for_session``)."""
    customer_language: str | None
    """The bill's language from the flow, else the language of the ticket's contact on file."""

    def usable(self) -> bool:
        """Return whether the ticket is neither revoked nor expired now."""
        return self.revoked_at is None and clock.as_utc(self.expires_at) > clock.now()


_generations: defaultdict[str, int] = defaultdict(int)
_lock = threading.Lock()
_entries = PageCache(max_pages=MAX_ENTRIES, ttl_seconds=SESSION_CACHE_SECONDS)


def generation(tenant: str) -> int:
    """Return the tenant's current generation; read it before the query whose result is stored."""
    return _generations[tenant]


def invalidate(tenant: str) -> None:
    """Drop every entry of ``tenant`` in this process."""
    with _lock:
        _generations[tenant] += 1


def get(tenant: str, public_id: str, ticket_ids: tuple[int, ...]) -> tuple[BillAccess, bool] | None:
    """Return the stored access of a session to a bill, unless the tenant changed since or it ended,
    and whether it is old enough to be read again in the background."""
    found = _entries.get_with_age((tenant, public_id, ticket_ids))
    if found is None:
        return None
    (stored_generation, access), age = found
    if stored_generation != _generations[tenant]:
        return None
    return access, age > REFRESH_AFTER_SECONDS


def forget(tenant: str, public_id: str, ticket_ids: tuple[int, ...]) -> None:
    """Drop the entry of a session whose ticket is no longer usable."""
    _entries.forget((tenant, public_id, ticket_ids))


def put(tenant: str, public_id: str, ticket_ids: tuple[int, ...], read_generation: int, access: BillAccess) -> None:
    """Store ``access``, read when the tenant's generation was ``read_generation``."""
    _entries.put((tenant, public_id, ticket_ids), (read_generation, access))


def mark_viewed(tenant: str, public_id: str, ticket_ids: tuple[int, ...], access: BillAccess) -> None:
    """Remember that the ticket's first view is recorded, so later pages do not queue it again."""
    found = _entries.get((tenant, public_id, ticket_ids))
    if found is not None and found[1] is access:
        _entries.put((tenant, public_id, ticket_ids), (found[0], replace(access, first_viewed=True)))


def clear() -> None:
    """Drop every entry (tests)."""
    _entries.clear()


@event.listens_for(Session, "after_flush")
def _note_changed_objects(session: Session, _flush: UOWTransaction) -> None:
    if session.info.get(QUIET_KEY):
        return
    if any(isinstance(item, WATCHED) for item in (*session.new, *session.dirty, *session.deleted)):
        session.info[_CHANGED_KEY] = True


@event.listens_for(Session, "do_orm_execute")
def _note_changing_statements(state: ORMExecuteState) -> None:
    if state.session.info.get(QUIET_KEY) or not isinstance(state.statement, Update | Delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in _WATCHED_TABLES:
        state.session.info[_CHANGED_KEY] = True


@event.listens_for(Session, "after_commit")
def _invalidate_after_commit(session: Session) -> None:
    tenant = session.info.get("tenant")
    if session.info.pop(_CHANGED_KEY, False) and tenant is not None:
        invalidate(tenant)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_CHANGED_KEY, None)
