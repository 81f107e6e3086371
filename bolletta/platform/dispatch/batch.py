"""Sending a dispatch's messages in batches: one load, one claim and one status write per batch.

:func:`bolletta.platform.dispatch.sending.send_message` costs several database round trips per
message. A mass dispatch queues its messages in batches of :data:`BATCH_SIZE` instead, and this
module handles a batch with the same rules and guarantees:

- the same checks before claiming (revoked or expired ticket, suppressed contact, paused job,
  quiet hours), done for the whole batch at once;
- one ``UPDATE`` claims every message still ``created`` and unclaimed, with the new tokens'
  HMACs, in one transaction; only what this worker claimed is sent;
- each message goes to the plugin on its own, with its own idempotency key, and only while the
  batch still holds its claim (:class:`~bolletta.platform.dispatch.claims.HeldClaims` renews the
  claims of a slow batch and skips the messages the sweeper took over);
- the outcomes are written together (never over a status a delivery report already moved);
- a ``ChannelUnavailable`` stores what was sent so far, releases the claims not used, and raises,
  so the broker retries the batch and the messages already sent are skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from bolletta.channels import sms
from bolletta.channels.base import OutgoingMessage, SendResult
from bolletta.channels.errors import ChannelOutcomeUnknown, ChannelUnavailable
from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Bill, Job, Message, Ticket
from bolletta.platform.dispatch import ratelimit, rules, shared_accounts, suppression
from bolletta.platform.dispatch.attachments import bill_attachments, email_images
from bolletta.platform.dispatch.channels import plugin_for_tenant
from bolletta.platform.dispatch.claims import HeldClaims
from bolletta.platform.dispatch.contacts import contact_languages
from bolletta.platform.dispatch.rendering import provider_template, render_message, template_params
from bolletta.platform.dispatch.sending import NOT_SENT, finish_dispatch_if_done
from bolletta.platform.dispatch.unsubscribe import unsubscribe_headers
from bolletta.platform.errors import ConfigurationError
from bolletta.platform.jobs import states
from bolletta.platform.runtime import Runtime
from bolletta.platform.tickets.links import ticket_link
from bolletta.platform.tickets.tokens import new_token, token_hash
from bolletta.tenants.registry import get_tenant, tenant_config

logger = logging.getLogger(__name__)

BATCH_SIZE = 50
"""Messages per broker message of a mass dispatch."""


def send_messages(rt: Runtime, tenant: str, message_ids: Sequence[int]) -> dict[str, int]:
    """Send the messages of ``message_ids`` not sent yet; return how many ended in each outcome."""
    tenant_row = get_tenant(rt.db, tenant)
    if tenant_row.status != "active":
        # A suspended tenant's messages stay unsent; resuming the tenant queues them again.
        logger.info("tenant %s is %s: a batch of %d messages waits", tenant, tenant_row.status, len(message_ids))
        return {"suspended": len(message_ids)}
    config = tenant_config(tenant_row)
    outcomes: dict[str, int] = {}
    now = clock.now()
    with rt.db.tenant_session(tenant) as session:
        rows = session.execute(
            select(Message, Ticket, Bill, Job.state)
            .join(Ticket, Ticket.id == Message.ticket_id)
            .join(Bill, Bill.id == Ticket.bill_id)
            .join(Job, Job.id == Ticket.job_id)
            .where(Message.id.in_(message_ids), Message.status == "created", Message.claimed_at.is_(None))
            .order_by(Message.id)
        ).all()
        blocked = suppression.suppressed_among(session, [(ticket.channel, ticket.address) for _, ticket, _, _ in rows])
        ready = []
        dropped: list[tuple[int, str]] = []
        waiting: list[dict[str, Any]] = []
        for message, ticket, bill, job_state in rows:
            if ticket.revoked_at is not None or clock.as_utc(ticket.expires_at) <= now:
                dropped.append((message.id, "ticket revoked or expired before sending"))
            elif (ticket.channel, ticket.address) in blocked:
                dropped.append((message.id, "contact on the suppression list"))
            elif not ticket.is_test and job_state == states.PAUSED:
                _count(outcomes, "paused")
            elif message.not_before is not None and clock.as_utc(message.not_before) > now:
                _count(outcomes, "waiting")
            elif ticket.origin == "fallback" and (bill.paid_at is not None or _viewed(session, bill.id)):
                dropped.append((message.id, "fallback not needed: the bill was paid or viewed"))
            else:
                quiet = rules.quiet_until(config.quiet_hours, ticket.channel, now)
                if quiet is not None:
                    waiting.append({"mid": message.id, "b_wait": quiet})
                    _count(outcomes, "waiting")
                else:
                    ready.append((message, ticket, bill))
        _drop(session, dropped, outcomes)
        _wait(session, waiting)
        claimed_at = clock.now()
        tokens = _claim(rt, session, ready, claimed_at)
        claimed = [(m, t, b) for m, t, b in ready if m.id in tokens]
        claims = HeldClaims(session, tenant, tokens, claimed_at)
        results = _send_claimed(rt, session, tenant, tenant_row.name, config, claimed, tokens, claims, outcomes)
        _record(session, results)
        _count_shared(rt, tenant, config, results)
        for job_id in {ticket.job_id for _, ticket, _ in claimed if not ticket.is_test}:
            finish_dispatch_if_done(session, job_id)
    logger.info("tenant %s: batch of %d messages: %s", tenant, len(message_ids), outcomes)
    return outcomes


def _send_claimed(rt: Runtime, session: Session, tenant: str, utility: str, config: Any,
                  claimed: list[tuple[Message, Ticket, Bill]], tokens: dict[int, str], claims: HeldClaims,
                  outcomes: dict[str, int]) -> list[dict[str, Any]]:
    """Send the claimed messages one by one; return the values of their status writes.

    Raises:
        ChannelUnavailable: the channel failed for the whole batch. The outcomes so far are stored
            and the claims of the messages not sent are released before it propagates.
    """
    on_file = contact_languages(
        session, [(b.customer_code, t.channel, t.address) for _, t, b in claimed if not b.language])
    results: list[dict[str, Any]] = []
    done: set[int] = set()
    try:
        for message, ticket, bill in claimed:
            language = bill.language or on_file.get((bill.customer_code, ticket.channel, ticket.address))
            result = _send_one(rt, tenant, utility, config, message, ticket, bill, tokens[message.id], language,
                               claims)
            done.add(message.id)
            if result is None:
                _count(outcomes, "skipped")
                continue
            results.append(result)
            _count(outcomes, result["status"])
    except ChannelUnavailable:
        _record(session, results)
        _count_shared(rt, tenant, config, results)
        claims.release(message.id for message, _, _ in claimed if message.id not in done)
        raise
    return results


def _viewed(session: Session, bill_id: int) -> bool:
    return session.scalar(
        select(Ticket.id).where(Ticket.bill_id == bill_id, Ticket.first_viewed_at.is_not(None)).limit(1)
    ) is not None


def _count(outcomes: dict[str, int], outcome: str) -> None:
    outcomes[outcome] = outcomes.get(outcome, 0) + 1


def _drop(session: Session, dropped: list[tuple[int, str]], outcomes: dict[str, int]) -> None:
    if not dropped:
        return
    now = clock.now()
    session.connection().execute(
        update(Message)
        .where(Message.id == bindparam("mid"), Message.status == "created", Message.claimed_at.is_(None))
        .values(status="rejected", error=bindparam("b_reason"), claimed_at=now, updated_at=now),
        [{"mid": message_id, "b_reason": f"{NOT_SENT}{reason}"} for message_id, reason in dropped],
    )
    session.commit()
    outcomes["dropped"] = outcomes.get("dropped", 0) + len(dropped)


def _wait(session: Session, waiting: list[dict[str, Any]]) -> None:
    if not waiting:
        return
    session.connection().execute(
        update(Message).where(Message.id == bindparam("mid"))
        .values(not_before=bindparam("b_wait"), updated_at=clock.now()),
        waiting,
    )
    session.commit()


def _claim(rt: Runtime, session: Session, ready: list[tuple[Message, Ticket, Bill]], now: datetime) -> dict[int, str]:
    """Claim the ready messages at ``now`` and store their tickets' new token HMACs; return tokens by message id."""
    if not ready:
        return {}
    claimed = set(session.scalars(
        update(Message)
        .where(Message.id.in_([m.id for m, _, _ in ready]), Message.status == "created", Message.claimed_at.is_(None))
        .values(claimed_at=now, updated_at=now, not_before=None)
        .returning(Message.id)
        .execution_options(synchronize_session=False)
    ))
    tokens = {m.id: new_token() for m, _, _ in ready if m.id in claimed}
    if tokens:
        session.connection().execute(
            update(Ticket).where(Ticket.id == bindparam("tid")).values(token_hash=bindparam("b_hash")),
            [{"tid": t.id, "b_hash": token_hash(rt.ticket_key, tokens[m.id])} for m, t, _ in ready if m.id in tokens],
        )
    session.commit()
    return tokens


def _send_one(rt: Runtime, tenant: str, utility: str, config: Any, message: Message, ticket: Ticket, bill: Bill,
              token: str, customer_language: str | None, claims: HeldClaims) -> dict[str, Any] | None:
    """Render and send one claimed message; return the values of its status write.

    Return ``None`` without sending when the batch no longer holds the message's claim. The claim is
    confirmed after the rate limit's wait, which can be long, and right before the plugin call.
    """
    link = ticket_link(rt.settings, tenant, config, token)
    rendered = render_message(ticket.channel, bill=bill, config=config, utility=utility, link=link,
                              expires_at=clock.as_utc(ticket.expires_at), is_test=ticket.is_test,
                              customer_language=customer_language)
    outgoing = OutgoingMessage(
        kind=ticket.channel, to=ticket.address, text=rendered.text, subject=rendered.subject, html=rendered.html,
        idempotency_key=message.idempotency_key, tenant_slug=tenant,
        sender=config.email_sender if ticket.channel == "email" else config.sms_sender or None,
        link=link, language=rendered.language,
        headers=unsubscribe_headers(rt, tenant, ticket.address) if ticket.channel == "email" else {},
        attachments=bill_attachments(rt, config, ticket, bill),
        template_params=template_params(bill, config, utility, rendered.language),
        template=provider_template(config, ticket.channel, rendered.language),
        inline_images=email_images(rt, tenant, config, rendered.html),
    )
    values: dict[str, Any] = {"mid": message.id, "kind": ticket.channel, "sms_encoding": None, "sms_parts": None}
    if ticket.channel == "sms":
        length = sms.measure(outgoing.text)
        values |= {"sms_encoding": length.encoding, "sms_parts": length.parts}
    try:
        channel = plugin_for_tenant(rt, tenant, config, message.plugin, ticket.channel)
        ratelimit.wait_turn(channel)
        if not claims.confirm(message.id):
            logger.info("tenant %s: message %d was taken over by the sweeper; its batch does not send it",
                        tenant, message.id)
            return None
        result = channel.send(outgoing)
    except ChannelOutcomeUnknown as exc:
        logger.warning("message %d is uncertain: %s", message.id, exc)
        return values | {"status": "uncertain", "provider_message_id": None, "error": str(exc)[:500],
                         "sent_at": None, "delivered_at": None}
    except ConfigurationError as exc:
        result = SendResult(status="rejected", error=f"{NOT_SENT}{exc}"[:500])
    now = clock.now()
    return values | {
        "status": result.status, "provider_message_id": result.provider_message_id, "error": result.error,
        "sent_at": now if result.status in ("sent", "delivered") else None,
        "delivered_at": now if result.status == "delivered" else None,
    }


def _record(session: Session, results: list[dict[str, Any]]) -> None:
    """Write the outcomes, each only over a status no report has moved yet."""
    if not results:
        return
    now = clock.now()
    session.connection().execute(
        update(Message)
        .where(Message.id == bindparam("mid"), or_(Message.status == "created", Message.status == "uncertain"))
        .values(status=bindparam("b_status"), provider_message_id=bindparam("b_provider_id"),
                error=bindparam("b_error"), sent_at=bindparam("b_sent_at"), delivered_at=bindparam("b_delivered_at"),
                sms_encoding=bindparam("b_encoding"), sms_parts=bindparam("b_parts"), updated_at=now),
        [{"mid": r["mid"], "b_status": r["status"], "b_provider_id": r["provider_message_id"], "b_error": r["error"],
          "b_sent_at": r["sent_at"], "b_delivered_at": r["delivered_at"], "b_encoding": r["sms_encoding"],
          "b_parts": r["sms_parts"]} for r in results],
    )
    session.commit()


def _count_shared(rt: Runtime, tenant: str, config: Any, results: list[dict[str, Any]]) -> None:
    """Count the sent messages of ``results`` that went out through a platform shared account.

    Each claimed message is sent once, so counting the results of this batch never counts a
    message twice when the batch is retried: a retry sends only the messages still unclaimed.
    """
    counts: dict[tuple[str, str], int] = {}
    for result in results:
        account = config.channel_accounts.get(result["kind"])
        if account and result["sent_at"] is not None:
            counts[(account, result["kind"])] = counts.get((account, result["kind"]), 0) + 1
    shared_accounts.record_sent(rt, tenant, counts)
