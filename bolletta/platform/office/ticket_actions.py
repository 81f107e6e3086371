"""Staff actions on one ticket: revoke it, extend its validity, show its contact in full. All audited.

Revocation and expiry take effect at once, because every bill page re-reads its ticket. Re-sending
belongs to the dispatch package, which has no re-send service yet, so the detail page offers none.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bolletta.platform import audit, clock
from bolletta.platform.db.models.tenant import Ticket
from bolletta.platform.errors import BollettaError, NotFound, PermissionDenied
from bolletta.platform.jobs.approval import Staff
from bolletta.platform.office.access import ACTING_ROLES
from bolletta.platform.runtime import Runtime

MAX_EXTENSION_DAYS = 365


class TicketActionRefused(BollettaError):
    """Raised when a ticket cannot take the action (already revoked, extension out of range)."""


def _ticket(session: Session, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"Ticket #{ticket_id} not found.")
    return ticket


def _check(staff: Staff, tenant: str) -> None:
    if staff.tenant != tenant or staff.role not in ACTING_ROLES:
        raise PermissionDenied("Your role cannot change tickets.")


def revoke(rt: Runtime, tenant: str, ticket_id: int, staff: Staff) -> datetime:
    """Revoke the ticket now; its link then opens the "link non più valido" page."""
    _check(staff, tenant)
    with rt.db.tenant_session(tenant) as session:
        ticket = _ticket(session, ticket_id)
        if ticket.revoked_at is not None:
            raise TicketActionRefused(f"Ticket #{ticket_id} is already revoked.")
        ticket.revoked_at = clock.now()
        audit.record(session, actor=staff.actor, user_id=staff.user_id, action="ticket.revoke",
                     target=f"ticket:{ticket_id}", ip=staff.ip)
        session.commit()
        return ticket.revoked_at


def extension_days(raw: str) -> int | None:
    """Return the whole number of days in ``raw`` when it is 1 to :data:`MAX_EXTENSION_DAYS`, else ``None``."""
    text = raw.strip()
    if not text.isascii() or not text.isdigit():
        return None
    days = int(text)
    return days if 1 <= days <= MAX_EXTENSION_DAYS else None


def extend(rt: Runtime, tenant: str, ticket_id: int, staff: Staff, days: int) -> datetime:
    """Move the expiry ``days`` days past the later of now and the current expiry."""
    _check(staff, tenant)
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise TicketActionRefused(f"Extend by 1 to {MAX_EXTENSION_DAYS} days, not {days}.")
    with rt.db.tenant_session(tenant) as session:
        ticket = _ticket(session, ticket_id)
        if ticket.revoked_at is not None:
            raise TicketActionRefused(f"Ticket #{ticket_id} is revoked: a revoked ticket cannot be extended.")
        previous = clock.as_utc(ticket.expires_at)
        ticket.expires_at = max(previous, clock.now()) + timedelta(days=days)
        audit.record(session, actor=staff.actor, user_id=staff.user_id, action="ticket.extend",
                     target=f"ticket:{ticket_id}", ip=staff.ip,
                     detail={"from": previous.isoformat(), "to": ticket.expires_at.isoformat(), "days": days})
        session.commit()
        return ticket.expires_at


def reveal_contact(rt: Runtime, tenant: str, ticket_id: int, staff: Staff) -> str:
    """Return the ticket's contact in full and audit who saw it."""
    _check(staff, tenant)
    with rt.db.tenant_session(tenant) as session:
        ticket = _ticket(session, ticket_id)
        audit.record(session, actor=staff.actor, user_id=staff.user_id, action="contact.reveal",
                     target=f"ticket:{ticket_id}", ip=staff.ip, detail={"channel": ticket.channel})
        session.commit()
        return ticket.address
