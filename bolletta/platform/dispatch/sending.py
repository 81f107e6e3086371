"""Handing one message to its channel plugin, exactly once.

The worker first claims the message (``claimed_at`` set where it was empty and the status is
``created``), and stores the new token's HMAC in the same transaction; only the claimer sends.
A crash after the claim leaves a message whose outcome is unknown: reconciliation marks it
``uncertain`` and asks the provider, it never sends again blindly.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bolletta.channels.base import OutgoingMessage
from bolletta.channels.errors import ChannelUnavailable
from bolletta.platform import clock, tasks
from bolletta.platform.db.models.tenant import Bill, Job, Message, Ticket
from bolletta.platform.dispatch.channels import channel_for
from bolletta.platform.dispatch.rendering import render_message
from bolletta.platform.errors import InvalidTransition
from bolletta.platform.jobs import states
from bolletta.platform.runtime import Runtime
from bolletta.platform.tickets.links import ticket_link
from bolletta.platform.tickets.tokens import new_token, token_hash
from bolletta.tenants.registry import get_tenant, tenant_config

logger = logging.getLogger(__name__)


def send_message(rt: Runtime, tenant: str, message_id: int) -> str:
    """Send message ``message_id`` if nobody has; return the outcome for logs and tests."""
    tenant_row = get_tenant(rt.db, tenant)
    config = tenant_config(tenant_row)
    with rt.db.tenant_session(tenant) as session:
        token = _claim(rt, session, message_id)
        if token is None:
            return "skipped"
        message = session.get_one(Message, message_id)
        ticket = session.get_one(Ticket, message.ticket_id)
        bill = session.get_one(Bill, ticket.bill_id)
        rendered = render_message(
            ticket.channel, bill=bill, config=config, utility=tenant_row.name,
            link=ticket_link(rt.settings, tenant, config, token), expires_at=clock.as_utc(ticket.expires_at),
            is_test=ticket.is_test,
        )
        outgoing = OutgoingMessage(
            kind=ticket.channel, to=ticket.address, text=rendered.text, subject=rendered.subject,
            html=rendered.html, idempotency_key=message.idempotency_key, tenant_slug=tenant,
            sender=config.email_sender if ticket.channel == "email" else config.sms_sender or None,
        )
        try:
            result = channel_for(rt, tenant, config, ticket.channel).send(outgoing)
        except ChannelUnavailable:
            # The provider did not take the message, so the outcome is known: release the claim
            # and let Dramatiq retry with backoff.
            _release(session, message_id)
            raise
        now = clock.now()
        message.status = result.status
        message.provider_message_id = result.provider_message_id
        message.error = result.error
        message.sent_at = now if result.status in ("sent", "delivered") else None
        message.updated_at = now
        session.commit()
        logger.info("tenant %s: message %d via %s is %s", tenant, message_id, message.plugin, result.status)
        if not ticket.is_test:
            _finish_dispatch_if_done(session, ticket.job_id)
        return result.status


def _claim(rt: Runtime, session: Session, message_id: int) -> str | None:
    now = clock.now()
    claimed = session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == "created", Message.claimed_at.is_(None))
        .values(claimed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        return None
    ticket_id = session.scalar(select(Message.ticket_id).where(Message.id == message_id))
    token = new_token()
    session.execute(
        update(Ticket).where(Ticket.id == ticket_id).values(token_hash=token_hash(rt.ticket_key, token))
    )
    session.commit()
    return token


def _release(session: Session, message_id: int) -> None:
    session.rollback()
    session.execute(update(Message).where(Message.id == message_id).values(claimed_at=None))
    session.commit()


def _finish_dispatch_if_done(session: Session, job_id: int) -> None:
    job = session.get(Job, job_id)
    if job is None or job.state != states.DISPATCHING:
        return
    waiting = session.scalar(
        select(Message.id)
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(Ticket.job_id == job_id, Ticket.is_test.is_(False), Message.status == "created")
        .limit(1)
    )
    if waiting is not None:
        return
    session.refresh(job)
    if job.state != states.DISPATCHING:
        return
    try:
        states.move(session, job, states.DISPATCHED, actor="system:dispatcher")
    except InvalidTransition:
        session.rollback()
        return
    job.finished_at = clock.now()
    tasks.defer(session, "notify_job", session.info["tenant"], job_id, states.DISPATCHED)
    session.commit()
