"""Creating tickets and their first message for a bill and a contact."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Bill, Message, Ticket


def issue_ticket(
    session: Session, bill: Bill, *, channel: str, address: str, plugin: str, validity: timedelta,
    is_test: bool = False, test_round: int = 0, origin: str = "", previous_ticket_id: int | None = None,
) -> Message | None:
    """Create the ticket and its first message, or return ``None`` when they already exist.

    The token is not created here: the sending actor makes it at the moment it sends, so it never
    sits in the database or the queue in clear.
    """
    existing = session.scalar(
        select(Ticket.id).where(
            Ticket.bill_id == bill.id, Ticket.channel == channel, Ticket.address == address,
            Ticket.is_test == is_test, Ticket.test_round == test_round,
        )
    )
    if existing is not None:
        return None
    now = clock.now()
    ticket = Ticket(
        bill_id=bill.id, job_id=bill.job_id, channel=channel, address=address, is_test=is_test,
        test_round=test_round, created_at=now, expires_at=now + validity,
        origin=origin or ("test" if is_test else "dispatch"), previous_ticket_id=previous_ticket_id,
    )
    session.add(ticket)
    session.flush()
    kind = "test" if is_test else "ticket"
    message = Message(
        ticket_id=ticket.id, plugin=plugin, status="created",
        idempotency_key=f"{kind}-{ticket.id}-1", created_at=now, updated_at=now, origin=ticket.origin,
    )
    session.add(message)
    session.flush()
    return message
