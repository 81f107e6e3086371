"""Staff actions on a ticket: re-send, revoke, extend validity. Each is audited in its transaction.

Semantics (spec section 4): re-sending to the ticket's own contact adds a message to the same
ticket; sending to another contact or channel creates a new ticket and leaves the old one valid,
unless staff choose "revoca e reinvia" (``revoke_old``). Every send rotates the ticket's token, so
the previous link of that ticket stops working when the new message goes out.

The backoffice screens call these functions; they take the acting :class:`Staff` for permission
checks and the audit log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bolletta.platform import audit, clock, tasks
from bolletta.platform.db.models.tenant import Bill, Message, Ticket
from bolletta.platform.errors import ConfigurationError, InvalidTransition, NotFound, PermissionDenied
from bolletta.platform.jobs.approval import Staff
from bolletta.platform.privacy import mask_contact
from bolletta.platform.runtime import Runtime
from bolletta.platform.tickets.issuing import issue_ticket
from bolletta.tenants.registry import get_tenant, tenant_config

logger = logging.getLogger(__name__)

STAFF_ROLES = frozenset({"tenant_admin", "tenant_operator", "platform_admin"})
MAX_EXTENSION_DAYS = 90


@dataclass(frozen=True)
class ResendOutcome:
    """The ticket and message a re-send created."""

    ticket_id: int
    """The ticket the new message belongs to: the same one, or a new one for another contact."""
    message_id: int
    new_ticket: bool


def _check(staff: Staff, tenant: str) -> None:
    if staff.role not in STAFF_ROLES:
        raise PermissionDenied("Your role cannot act on tickets.")
    if staff.role != "platform_admin" and staff.tenant != tenant:
        raise PermissionDenied("This ticket belongs to another tenant.")


def _ticket(session: Session, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"Ticket #{ticket_id} not found.")
    return ticket


def resend(
    rt: Runtime, tenant: str, ticket_id: int, staff: Staff, *, channel: str | None = None,
    address: str | None = None, revoke_old: bool = False,
) -> ResendOutcome:
    """Send the ticket's bill again, to the same contact or to ``channel``/``address``.

    Raises:
        NotFound: no such ticket.
        PermissionDenied: the staff member may not act on this tenant's tickets.
        InvalidTransition: the ticket is revoked or expired (extend it first), or is a test ticket.
        ConfigurationError: the tenant has no channel plugin for ``channel``.
    """
    _check(staff, tenant)
    config = tenant_config(get_tenant(rt.db, tenant))
    with rt.db.tenant_session(tenant) as session:
        ticket = _ticket(session, ticket_id)
        if ticket.is_test:
            raise InvalidTransition(f"Ticket #{ticket_id} is a test ticket and cannot be sent again.")
        channel = channel or ticket.channel
        address = (address or ticket.address).strip()
        plugin = config.channel_plugins.get(channel)
        if not plugin:
            raise ConfigurationError(f"Tenant {tenant} has no channel plugin for {channel} messages.")
        now = clock.now()
        same_contact = (channel, address) == (ticket.channel, ticket.address)
        target = ticket if same_contact else session.scalar(
            select(Ticket).where(Ticket.bill_id == ticket.bill_id, Ticket.channel == channel,
                                 Ticket.address == address, Ticket.is_test.is_(False), Ticket.test_round == 0)
        )
        if target is not None:
            if target.revoked_at is not None or clock.as_utc(target.expires_at) <= now:
                raise InvalidTransition(f"Ticket #{target.id} is revoked or expired; extend it before re-sending.")
            message = _add_message(session, target, plugin, staff)
            new_ticket = False
        else:
            bill = session.get_one(Bill, ticket.bill_id)
            issued = issue_ticket(
                session, bill, channel=channel, address=address, plugin=plugin,
                validity=timedelta(days=config.ticket_validity_days), origin="staff", previous_ticket_id=ticket.id,
            )
            assert issued is not None  # the lookup above found no ticket for this contact
            issued.origin = f"user:{staff.username}"
            message, target, new_ticket = issued, session.get_one(Ticket, issued.ticket_id), True
        if revoke_old and not same_contact and ticket.revoked_at is None:
            ticket.revoked_at = now
        audit.record(
            session, actor=staff.actor, user_id=staff.user_id, action="ticket.resend", target=f"ticket:{ticket.id}",
            detail={"channel": channel, "address": mask_contact(address), "message_id": message.id,
                    "ticket_id": target.id, "new_ticket": new_ticket, "revoked_old": revoke_old and not same_contact},
            ip=staff.ip,
        )
        tasks.defer(session, "send_message", tenant, message.id)
        session.commit()
        logger.info("tenant %s: ticket %d re-sent by %s as message %d", tenant, ticket_id, staff.username, message.id)
        return ResendOutcome(ticket_id=target.id, message_id=message.id, new_ticket=new_ticket)


def _add_message(session: Session, ticket: Ticket, plugin: str, staff: Staff) -> Message:
    count = session.scalar(select(func.count()).select_from(Message).where(Message.ticket_id == ticket.id)) or 0
    now = clock.now()
    message = Message(
        ticket_id=ticket.id, plugin=plugin, status="created", idempotency_key=f"ticket-{ticket.id}-{count + 1}",
        created_at=now, updated_at=now, origin=f"user:{staff.username}",
    )
    session.add(message)
    session.flush()
    return message


def revoke(rt: Runtime, tenant: str, ticket_id: int, staff: Staff, *, reason: str = "") -> None:
    """Revoke the ticket: its link opens the "link non più valido" page from now on.

    Raises:
        NotFound, PermissionDenied: as for :func:`resend`.
    """
    _check(staff, tenant)
    with rt.db.tenant_session(tenant) as session:
        ticket = _ticket(session, ticket_id)
        if ticket.revoked_at is None:
            ticket.revoked_at = clock.now()
        audit.record(session, actor=staff.actor, user_id=staff.user_id, action="ticket.revoke",
                     target=f"ticket:{ticket_id}", detail={"reason": reason[:500]}, ip=staff.ip)
        session.commit()


def extend(rt: Runtime, tenant: str, ticket_id: int, staff: Staff, *, days: int) -> None:
    """Extend the ticket's validity by ``days`` from its expiry (or from now, when already expired).

    Raises:
        ValueError: ``days`` is not between 1 and 90.
        InvalidTransition: the ticket is revoked.
        NotFound, PermissionDenied: as for :func:`resend`.
    """
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_EXTENSION_DAYS}, got {days}")
    _check(staff, tenant)
    with rt.db.tenant_session(tenant) as session:
        ticket = _ticket(session, ticket_id)
        if ticket.revoked_at is not None:
            raise InvalidTransition(f"Ticket #{ticket_id} is revoked; send a new one instead of extending it.")
        previous = clock.as_utc(ticket.expires_at)
        ticket.expires_at = max(previous, clock.now()) + timedelta(days=days)
        audit.record(session, actor=staff.actor, user_id=staff.user_id, action="ticket.extend",
                     target=f"ticket:{ticket_id}",
                     detail={"days": days, "from": previous.isoformat(), "to": ticket.expires_at.isoformat()},
                     ip=staff.ip)
        session.commit()
