"""Handing one message to its channel plugin, exactly once.

Before claiming, the worker checks what may have changed since the message was queued: the
ticket revoked or expired, the contact suppressed, a fallback no longer needed (the bill paid or
viewed), the job paused, or the tenant's quiet hours (the message then waits with ``not_before``
and the sweeper queues it again). It then claims the message (``claimed_at`` set where it was
empty and the status is ``created``), and stores the new token's HMAC in the same transaction;
only the claimer sends. A crash after the claim leaves a message whose outcome is unknown: the
sweeper marks it ``uncertain`` and queries the provider, and never sends it again blindly.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bolletta.channels import sms
from bolletta.channels.base import OutgoingMessage, SendResult
from bolletta.channels.errors import ChannelOutcomeUnknown, ChannelUnavailable
from bolletta.platform import clock, tasks
from bolletta.platform.db.models.tenant import Bill, Job, Message, Ticket
from bolletta.platform.dispatch import ratelimit, rules, shared_accounts, suppression
from bolletta.platform.dispatch.attachments import bill_attachments, email_images
from bolletta.platform.dispatch.channels import plugin_for_tenant
from bolletta.platform.dispatch.contacts import contact_language
from bolletta.platform.dispatch.rendering import provider_template, render_message, template_params
from bolletta.platform.dispatch.unsubscribe import unsubscribe_headers
from bolletta.platform.errors import ConfigurationError, InvalidTransition
from bolletta.platform.jobs import states
from bolletta.platform.runtime import Runtime
from bolletta.platform.tickets.links import ticket_link
from bolletta.platform.tickets.tokens import new_token, token_hash
from bolletta.tenants.config import TenantConfig
from bolletta.tenants.registry import get_tenant, tenant_config

logger = logging.getLogger(__name__)

NOT_SENT = "not sent: "
"""Prefix of the error of a message the platform dropped before any provider saw it."""


def send_message(rt: Runtime, tenant: str, message_id: int) -> str:
    """Send message ``message_id`` if nobody has; return the outcome for logs and tests."""
    tenant_row = get_tenant(rt.db, tenant)
    if tenant_row.status != "active":
        # The message stays unsent; resuming the tenant queues it again.
        logger.info("tenant %s is %s: message %d waits", tenant, tenant_row.status, message_id)
        return "suspended"
    config = tenant_config(tenant_row)
    with rt.db.tenant_session(tenant) as session:
        row = session.execute(
            select(Message, Ticket, Bill, Job.state)
            .join(Ticket, Ticket.id == Message.ticket_id)
            .join(Bill, Bill.id == Ticket.bill_id)
            .join(Job, Job.id == Ticket.job_id)
            .where(Message.id == message_id)
        ).first()
        if row is None:
            return "skipped"
        message, ticket, bill, job_state = row
        if message.status != "created" or message.claimed_at is not None:
            return "skipped"
        held = _hold_reason(session, config, message, ticket, bill, job_state)
        if held is not None:
            return held
        token = _claim(rt, session, message_id, ticket.id)
        if token is None:
            return "skipped"
        link = ticket_link(rt.settings, tenant, config, token)
        customer_language = bill.language or contact_language(
            session, bill.customer_code, ticket.channel, ticket.address)
        rendered = render_message(
            ticket.channel, bill=bill, config=config, utility=tenant_row.name, link=link,
            expires_at=clock.as_utc(ticket.expires_at), is_test=ticket.is_test, customer_language=customer_language,
        )
        outgoing = OutgoingMessage(
            kind=ticket.channel, to=ticket.address, text=rendered.text, subject=rendered.subject,
            html=rendered.html, idempotency_key=message.idempotency_key, tenant_slug=tenant,
            sender=config.email_sender if ticket.channel == "email" else config.sms_sender or None,
            link=link, language=rendered.language,
            headers=unsubscribe_headers(rt, tenant, ticket.address) if ticket.channel == "email" else {},
            attachments=bill_attachments(rt, config, ticket, bill),
            template_params=template_params(bill, config, tenant_row.name, rendered.language),
            template=provider_template(config, ticket.channel, rendered.language),
            inline_images=email_images(rt, tenant, config, rendered.html),
        )
        extra: dict[str, object] = {}
        if ticket.channel == "sms":
            length = sms.measure(outgoing.text)
            extra = {"sms_encoding": length.encoding, "sms_parts": length.parts}
        try:
            channel = plugin_for_tenant(rt, tenant, config, message.plugin, ticket.channel)
            ratelimit.wait_turn(channel)
            result = channel.send(outgoing)
        except ChannelUnavailable:
            # The provider did not take the message, so the outcome is known: release the claim
            # and let Dramatiq retry with backoff.
            _release(session, message_id)
            raise
        except ChannelOutcomeUnknown as exc:
            # The provider may have taken it: never send again blindly, reconcile instead.
            _mark_uncertain(session, message_id, str(exc))
            if not ticket.is_test:
                finish_dispatch_if_done(session, ticket.job_id)
            return "uncertain"
        except ConfigurationError as exc:
            result = SendResult(status="rejected", error=f"{NOT_SENT}{exc}"[:500])
        _record_result(session, message, result, extra)
        _count_shared(rt, tenant, config, ticket.channel, result)
        logger.info("tenant %s: message %d via %s is %s", tenant, message_id, message.plugin, result.status)
        if not ticket.is_test:
            finish_dispatch_if_done(session, ticket.job_id)
        return result.status


def _hold_reason(
    session: Session, config: TenantConfig, message: Message, ticket: Ticket, bill: Bill, job_state: str
) -> str | None:
    """Drop or delay the message when something changed since it was queued; ``None`` to send now."""
    now = clock.now()
    if ticket.revoked_at is not None or clock.as_utc(ticket.expires_at) <= now:
        return _drop(session, message, "ticket revoked or expired before sending")
    if suppression.is_suppressed(session, ticket.channel, ticket.address):
        return _drop(session, message, "contact on the suppression list")
    if ticket.origin == "fallback" and (bill.paid_at is not None or _bill_viewed(session, bill.id)):
        return _drop(session, message, "fallback not needed: the bill was paid or viewed")
    if not ticket.is_test and job_state == states.PAUSED:
        return "paused"
    if message.not_before is not None and clock.as_utc(message.not_before) > now:
        return "waiting"
    wait_until = rules.quiet_until(config.quiet_hours, ticket.channel, now)
    if wait_until is not None:
        message.not_before = wait_until
        message.updated_at = now
        session.commit()
        logger.info("message %d waits for the end of quiet hours at %s", message.id, wait_until.isoformat())
        return "waiting"
    return None


def _bill_viewed(session: Session, bill_id: int) -> bool:
    return session.scalar(
        select(Ticket.id).where(Ticket.bill_id == bill_id, Ticket.first_viewed_at.is_not(None)).limit(1)
    ) is not None


def _drop(session: Session, message: Message, reason: str) -> str:
    now = clock.now()
    dropped = session.execute(
        update(Message)
        .where(Message.id == message.id, Message.status == "created", Message.claimed_at.is_(None))
        .values(status="rejected", error=f"{NOT_SENT}{reason}", claimed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if dropped.rowcount == 1:  # type: ignore[attr-defined]
        logger.info("message %d dropped: %s", message.id, reason)
        ticket = session.get_one(Ticket, message.ticket_id)
        if not ticket.is_test:
            finish_dispatch_if_done(session, ticket.job_id)
    return "dropped"


def _record_result(session: Session, message: Message, result: SendResult, extra: dict[str, object]) -> None:
    """Store the send's outcome unless a delivery report got there first (never backwards)."""
    now = clock.now()
    values: dict[str, object] = extra | {
        "status": result.status, "provider_message_id": result.provider_message_id, "error": result.error,
        "sent_at": now if result.status in ("sent", "delivered") else None, "updated_at": now,
    }
    if result.status == "delivered":
        values["delivered_at"] = now
    updated = session.execute(
        update(Message)
        .where(Message.id == message.id, Message.status.in_(("created", "uncertain")))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if updated.rowcount != 1 and result.provider_message_id:  # type: ignore[attr-defined]
        session.execute(
            update(Message)
            .where(Message.id == message.id, Message.provider_message_id.is_(None))
            .values(provider_message_id=result.provider_message_id)
            .execution_options(synchronize_session=False)
        )
    session.commit()


def _count_shared(rt: Runtime, tenant: str, config: TenantConfig, kind: str, result: SendResult) -> None:
    """Count a sent message against the platform shared account the tenant chose for ``kind``, if any."""
    account = config.channel_accounts.get(kind)
    if account and result.status in ("sent", "delivered"):
        shared_accounts.record_sent(rt, tenant, {(account, kind): 1})


def _claim(rt: Runtime, session: Session, message_id: int, ticket_id: int) -> str | None:
    now = clock.now()
    claimed = session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == "created", Message.claimed_at.is_(None))
        .values(claimed_at=now, updated_at=now, not_before=None)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        return None
    token = new_token()
    session.execute(
        update(Ticket).where(Ticket.id == ticket_id).values(token_hash=token_hash(rt.ticket_key, token))
    )
    session.commit()
    return token


def _mark_uncertain(session: Session, message_id: int, reason: str) -> None:
    session.rollback()
    session.execute(
        update(Message).where(Message.id == message_id, Message.status == "created")
        .values(status="uncertain", error=reason[:500], updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    session.commit()
    logger.warning("message %d is uncertain: %s", message_id, reason)


def _release(session: Session, message_id: int) -> None:
    session.rollback()
    session.execute(update(Message).where(Message.id == message_id).values(claimed_at=None))
    session.commit()


def finish_dispatch_if_done(session: Session, job_id: int) -> None:
    """Move a dispatching job to ``dispatched`` once its tickets are issued and no message waits."""
    waiting = session.scalar(
        select(Message.id)
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(Ticket.job_id == job_id, Ticket.is_test.is_(False), Message.status == "created")
        .limit(1)
    )
    if waiting is not None:
        return
    job = session.get(Job, job_id, populate_existing=True)
    if job is None or job.state != states.DISPATCHING:
        return
    if "dispatch" not in (job.report or {}):
        return  # the tickets are still being issued; create_tickets checks again when it ends
    try:
        states.move(session, job, states.DISPATCHED, actor="system:dispatcher")
    except InvalidTransition:
        session.rollback()
        return
    job.finished_at = clock.now()
    tasks.defer(session, "notify_job", session.info["tenant"], job_id, states.DISPATCHED)
    session.commit()
