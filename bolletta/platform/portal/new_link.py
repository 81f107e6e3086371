"""'Richiedi un nuovo link': a customer whose link no longer works asks for a new one.

The page answers the same way, with the same status and the same work, whether or not the contact
is on file: the request runs one lookup and always queues :func:`renew_link`, with the ticket id or
with 0 when no ticket matched, so neither the answer nor its timing tells a stranger which contacts
a utility has. The queued message carries no address. The new link goes only to the contact as it
is already on file (the address of an earlier ticket), never to a typed address that is not.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bolletta.platform import clock, tasks
from bolletta.platform.db.models.tenant import Message, Ticket
from bolletta.platform.runtime import Runtime
from bolletta.tenants.registry import get_tenant, tenant_config

logger = logging.getLogger(__name__)

MAX_TICKETS_LOOKED_AT = 20
RENEW_INTERVAL = timedelta(hours=1)
"""A ticket gets at most one new link per hour, however often it is requested.

Only earlier renewals count: the dispatch's own message does not, so a customer who asks right after
the bill went out still gets a new link.
"""
RENEWAL_KEY_PREFIX = "renew-"


def normalize_contact(raw: str) -> tuple[str, str] | None:
    """Return the channel kind and stored form of a typed e-mail address or mobile number, else ``None``.

    A phone number stands for both ``sms`` and ``whatsapp``; the kind returned is ``phone``.
    """
    text = raw.strip()
    if "@" in text:
        try:
            return "email", validate_email(text, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            return None
    try:
        number = phonenumbers.parse(text, "IT")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return "phone", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def queue_request(session: Session, tenant: str, kind: str, address: str) -> None:
    """Pick the contact's ticket to renew and queue its renewal (the caller commits).

    The pick is the contact's newest expired customer ticket, else its newest one: a customer with a
    bill and a credit note asks for the link that stopped working.
    """
    channels = ("sms", "whatsapp") if kind == "phone" else ("email",)
    # Ingestion keeps the case of an e-mail's local part, and the typed address is lower-cased.
    stored_address = func.lower(Ticket.address) if kind == "email" else Ticket.address
    rows = session.execute(
        select(Ticket.id, Ticket.expires_at)
        .where(Ticket.channel.in_(channels), stored_address == address, Ticket.is_test.is_(False),
               Ticket.revoked_at.is_(None))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(MAX_TICKETS_LOOKED_AT)
    ).all()
    now = clock.now()
    expired = [row.id for row in rows if clock.as_utc(row.expires_at) <= now]
    ticket_id = 0
    if expired:
        ticket_id = expired[0]
    elif rows:
        ticket_id = rows[0].id
    tasks.defer(session, "renew_link", tenant, ticket_id)


def renew_link(rt: Runtime, tenant: str, ticket_id: int) -> str:
    """Send a new link of ticket ``ticket_id`` (0: none matched); return the outcome.

    The ticket keeps its bill, channel and address: a new message on it carries a new token, which
    replaces the old one, and its validity starts again. A revoked ticket is never renewed, because
    staff revoke a link on purpose.
    """
    if not ticket_id:
        logger.info("tenant %s: new link requested for a contact with no ticket on file, nothing sent", tenant)
        return "unknown"
    config = tenant_config(get_tenant(rt.db, tenant))
    with rt.db.tenant_session(tenant) as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None or ticket.is_test:
            logger.info("tenant %s: new link for ticket %d not sent, no customer ticket has that id", tenant, ticket_id)
            return "unknown"
        if ticket.revoked_at is not None:
            logger.info("tenant %s: new link for ticket %d not sent, the ticket is revoked", tenant, ticket.id)
            return "revoked"
        latest = session.scalar(select(func.max(Message.created_at)).where(
            Message.ticket_id == ticket.id, Message.idempotency_key.startswith(RENEWAL_KEY_PREFIX)))
        now = clock.now()
        if latest is not None and now - clock.as_utc(latest) < RENEW_INTERVAL:
            logger.info("tenant %s: new link for ticket %d not sent, one was sent less than %d minutes ago",
                        tenant, ticket.id, RENEW_INTERVAL.total_seconds() // 60)
            return "too_soon"
        count = session.scalar(select(func.count()).select_from(Message).where(Message.ticket_id == ticket.id)) or 0
        plugin = config.channel_plugins.get(ticket.channel)
        if plugin is None:
            logger.warning("tenant %s: new link for ticket %d not sent, no channel plugin is set for %s",
                           tenant, ticket.id, ticket.channel)
            return "no_channel"
        ticket.expires_at = max(clock.as_utc(ticket.expires_at), now + timedelta(days=config.ticket_validity_days))
        key = f"{RENEWAL_KEY_PREFIX}{ticket.id}-{count + 1}"
        message = Message(ticket_id=ticket.id, plugin=plugin, status="created", idempotency_key=key,
                          created_at=now, updated_at=now)
        session.add(message)
        session.flush()
        tasks.defer(session, "send_message", tenant, message.id)
        session.commit()
        logger.info("tenant %s: new link requested for ticket %d, message %d queued", tenant, ticket.id, message.id)
        return "sent"
