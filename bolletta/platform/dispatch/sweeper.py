"""The dispatch's periodic rules, all read against the injectable clock.

One :func:`sweep` of a tenant:

1. queues again the messages whose wait (quiet hours, fallback delay) is over;
2. marks ``uncertain`` the messages claimed longer than :data:`CLAIM_TIMEOUT` ago and still
   ``created`` (the worker died between the claim and the provider's response);
3. reconciles ``uncertain`` messages through the plugin's status query: a status from the
   provider is applied; ``unknown`` (the provider never took it) sends it again; a plugin that
   cannot ask leaves it ``uncertain`` for a callback or staff;
4. polls the status of sent messages on channels that offer status queries but no callbacks;
5. turns SMS sent more than 48 hours ago without a report into ``timeout``;
6. issues fallback tickets: a refused or failed contact moves to the next one in the tenant's
   priority order after ``fallback_delay_minutes``, unless the bill was paid or viewed.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from bolletta.channels.base import StatusQuery
from bolletta.channels.errors import ChannelError
from bolletta.platform import clock, tasks
from bolletta.platform.db.models.tenant import Bill, Job, Message, Ticket
from bolletta.platform.dispatch import reports, rules, suppression
from bolletta.platform.dispatch.batch import BATCH_SIZE
from bolletta.platform.dispatch.channels import installed_channels, plugin_for_tenant
from bolletta.platform.dispatch.claims import CLAIM_TIMEOUT
from bolletta.platform.dispatch.contacts import contacts_for
from bolletta.platform.dispatch.sending import NOT_SENT, finish_dispatch_if_done
from bolletta.platform.errors import ConfigurationError
from bolletta.platform.jobs import states
from bolletta.platform.runtime import Runtime
from bolletta.tenants.config import TenantConfig
from bolletta.tenants.registry import get_tenant, tenant_config

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=30)
"""A queued message not claimed this long after it was queued is queued again: its broker message
was lost (a worker killed with prefetched messages, a broker restarted without its data). Sending
is idempotent, so a copy that was only slow is skipped when it runs."""

SMS_REPORT_TIMEOUT = timedelta(hours=48)
POLL_INTERVAL = timedelta(minutes=10)
BATCH = 500

_NO_FALLBACK_ERRORS = (f"{NOT_SENT}ticket", f"{NOT_SENT}fallback")


def sweep(rt: Runtime, tenant: str, *, claim_timeout: timedelta = CLAIM_TIMEOUT,
          stale_after: timedelta = STALE_AFTER) -> dict[str, int]:
    """Run every periodic rule once for ``tenant``; return how many messages each touched."""
    config = tenant_config(get_tenant(rt.db, tenant))
    counts: dict[str, int] = {}
    with rt.db.tenant_session(tenant) as session:
        counts["requeued"] = requeue_due(session, tenant)
        counts["stale"] = requeue_stale(session, tenant, stale_after)
        counts["issuing"] = resume_issuing(session, tenant, stale_after)
        counts["uncertain"] = mark_uncertain(session, claim_timeout)
        counts["timeout"] = expire_sms(session)
    counts["reconciled"] = reconcile(rt, tenant, config)
    counts["polled"] = poll_reports(rt, tenant, config)
    counts["fallback"] = issue_fallbacks(rt, tenant, config)
    if any(counts.values()):
        logger.info("tenant %s: dispatch sweep %s", tenant, counts)
    return counts


def requeue_due(session: Session, tenant: str) -> int:
    """Queue again the unclaimed messages whose ``not_before`` has passed."""
    now = clock.now()
    ids = list(session.scalars(
        select(Message.id).where(Message.status == "created", Message.claimed_at.is_(None),
                                 Message.not_before.is_not(None), Message.not_before <= now)
        .order_by(Message.id).limit(BATCH * 10)
    ))
    if not ids:
        return 0
    session.execute(update(Message).where(Message.id.in_(ids)).values(not_before=None)
                    .execution_options(synchronize_session=False))
    # Batches, so a night's worth of messages waiting for the morning goes out at full speed.
    tasks.defer_many(session, "send_messages", [(tenant, ids[start:start + BATCH_SIZE])
                                                for start in range(0, len(ids), BATCH_SIZE)])
    session.commit()
    return len(ids)


def requeue_stale(session: Session, tenant: str, stale_after: timedelta = STALE_AFTER) -> int:
    """Queue again the messages of running dispatches left unclaimed for ``stale_after``."""
    now = clock.now()
    running = select(Ticket.id).join(Job, Job.id == Ticket.job_id).where(
        or_(Ticket.is_test.is_(True), Job.state == states.DISPATCHING))
    ids = list(session.scalars(
        select(Message.id).where(Message.status == "created", Message.claimed_at.is_(None),
                                 Message.not_before.is_(None), Message.updated_at <= now - stale_after,
                                 Message.ticket_id.in_(running)).order_by(Message.id).limit(BATCH * 10)
    ))
    if not ids:
        return 0
    session.execute(update(Message).where(Message.id.in_(ids)).values(updated_at=now)
                    .execution_options(synchronize_session=False))
    tasks.defer_many(session, "send_messages", [(tenant, ids[start:start + BATCH_SIZE])
                                                for start in range(0, len(ids), BATCH_SIZE)])
    session.commit()
    logger.warning("tenant %s: %d queued messages were not taken in time; queued again", tenant, len(ids))
    return len(ids)


def resume_issuing(session: Session, tenant: str, stale_after: timedelta = STALE_AFTER) -> int:
    """Queue ticket issuing again for dispatching jobs whose issuing never finished (worker lost)."""
    now = clock.now()
    jobs = session.scalars(select(Job).where(Job.state == states.DISPATCHING, Job.updated_at <= now - stale_after))
    stuck = [job for job in jobs if "dispatch" not in (job.report or {})]
    for job in stuck:
        job.updated_at = now
        tasks.defer(session, "create_tickets", tenant, job.id)
        logger.warning("tenant %s: tickets of job %d were not all issued; issuing again", tenant, job.id)
    session.commit()
    return len(stuck)


def mark_uncertain(session: Session, claim_timeout: timedelta = CLAIM_TIMEOUT) -> int:
    """Mark ``uncertain`` the messages whose sender died after claiming them."""
    now = clock.now()
    result = session.execute(
        update(Message)
        .where(Message.status == "created", Message.claimed_at.is_not(None), Message.claimed_at <= now - claim_timeout)
        .values(status="uncertain", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


def expire_sms(session: Session) -> int:
    """Turn SMS without a delivery report 48 hours after sending into ``timeout``."""
    now = clock.now()
    sms_tickets = select(Ticket.id).where(Ticket.channel == "sms")
    result = session.execute(
        update(Message)
        .where(Message.status == "sent", Message.sent_at <= now - SMS_REPORT_TIMEOUT,
               Message.ticket_id.in_(sms_tickets))
        .values(status="timeout", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


def _query(rt: Runtime, tenant: str, config: TenantConfig, session: Session, message: Message) -> str:
    """Query the message's status through its plugin and apply the report; return the outcome."""
    ticket = session.get_one(Ticket, message.ticket_id)
    try:
        channel = plugin_for_tenant(rt, tenant, config, message.plugin, ticket.channel)
        report = channel.query_status(StatusQuery(
            idempotency_key=message.idempotency_key, to=ticket.address,
            provider_message_id=message.provider_message_id,
            sent_after=clock.as_utc(message.claimed_at) if message.claimed_at else None,
        ))
    except (ChannelError, ConfigurationError) as exc:
        logger.warning("tenant %s: status of message %d not available: %s", tenant, message.id, exc)
        return "unavailable"
    if report is None:
        return "cannot-ask"
    if report.status == "unknown":
        if message.status != "uncertain":
            return "unknown"
        released = session.execute(
            update(Message).where(Message.id == message.id, Message.status == "uncertain")
            .values(status="created", claimed_at=None, updated_at=clock.now())
            .execution_options(synchronize_session=False)
        )
        if released.rowcount == 1:  # type: ignore[attr-defined]
            tasks.defer(session, "send_message", tenant, message.id)
        session.commit()
        logger.info("tenant %s: message %d never reached the provider; sending it again", tenant, message.id)
        return "resent"
    outcome = reports.apply_report(session, message, report)
    session.commit()
    return outcome


def reconcile(rt: Runtime, tenant: str, config: TenantConfig) -> int:
    """Reconcile ``uncertain`` messages through their plugin's status query."""
    done = 0
    with rt.db.tenant_session(tenant) as session:
        messages = session.scalars(select(Message).where(Message.status == "uncertain").order_by(Message.id)
                                   .limit(BATCH)).all()
        job_ids: set[int] = set()
        for message in messages:
            if _query(rt, tenant, config, session, message) in ("applied", "resent"):
                done += 1
                job_ids.add(session.get_one(Ticket, message.ticket_id).job_id)
        for job_id in job_ids:
            finish_dispatch_if_done(session, job_id)
    return done


def poll_reports(rt: Runtime, tenant: str, config: TenantConfig) -> int:
    """Query the status of sent messages on channels with a status API but no pushed reports."""
    plugins = installed_channels().plugins
    polled = [plugin_id for plugin_id in config.enabled_channels
              if plugin_id in plugins and plugins[plugin_id].capabilities.status_query
              and not plugins[plugin_id].capabilities.delivery_reports and plugin_id != "outbox"]
    if not polled:
        return 0
    now = clock.now()
    done = 0
    with rt.db.tenant_session(tenant) as session:
        messages = session.scalars(
            select(Message).where(
                Message.plugin.in_(polled), Message.status == "sent",
                or_(Message.reported_at.is_(None), Message.reported_at <= now - POLL_INTERVAL),
                Message.sent_at <= now - POLL_INTERVAL,
            ).order_by(Message.id).limit(BATCH)
        ).all()
        for message in messages:
            message.reported_at = now
            if _query(rt, tenant, config, session, message) == "applied":
                done += 1
        session.commit()
    return done


def issue_fallbacks(rt: Runtime, tenant: str, config: TenantConfig) -> int:
    """Issue the next channel's ticket for bills whose every ticket was refused or failed."""
    now = clock.now()
    delay = timedelta(minutes=config.fallback_delay_minutes)
    successor = aliased(Ticket)
    issued = 0
    with rt.db.tenant_session(tenant) as session:
        failed = session.execute(
            select(Ticket, Message)
            .join(Message, Message.ticket_id == Ticket.id)
            .where(
                Ticket.is_test.is_(False), Ticket.revoked_at.is_(None),
                Message.status.in_(("rejected", "failed")), Message.updated_at <= now - delay,
                Message.updated_at >= now - timedelta(days=7),
                or_(Message.error.is_(None), and_(*[~Message.error.startswith(p) for p in _NO_FALLBACK_ERRORS])),
                ~exists().where(successor.previous_ticket_id == Ticket.id),
            )
            .order_by(Ticket.id)
            .limit(BATCH)
        ).all()
        for ticket, message in failed:
            if _latest_message(session, ticket.id) != message.id:
                continue
            if _issue_fallback(session, tenant, config, ticket):
                issued += 1
        session.commit()
    return issued


def _latest_message(session: Session, ticket_id: int) -> int | None:
    return session.scalar(select(Message.id).where(Message.ticket_id == ticket_id).order_by(Message.id.desc()).limit(1))


def _issue_fallback(session: Session, tenant: str, config: TenantConfig, failed: Ticket) -> bool:
    bill = session.get_one(Bill, failed.bill_id)
    tickets = session.scalars(select(Ticket).where(Ticket.bill_id == bill.id, Ticket.is_test.is_(False))).all()
    if bill.paid_at is not None or any(ticket.first_viewed_at is not None for ticket in tickets):
        return False
    active = [ticket for ticket in tickets if ticket.id != failed.id and ticket.revoked_at is None
              and _latest_status(session, ticket.id) not in ("rejected", "failed")]
    if active:
        return False
    tried = {(ticket.channel, ticket.address) for ticket in tickets}
    known = contacts_for(session, bill, config.contact_sources)
    contacts = [contact for contact in rules.ordered_contacts(config, known)
                if (contact.channel, contact.address) not in tried]
    blocked = suppression.suppressed_among(session, [(c.channel, c.address) for c in contacts])
    candidates = [contact for contact in contacts if (contact.channel, contact.address) not in blocked]
    if not candidates:
        return False
    contact = candidates[0]
    from bolletta.platform.tickets.issuing import issue_ticket

    message = issue_ticket(
        session, bill, channel=contact.channel, address=contact.address,
        plugin=config.channel_plugins[contact.channel], validity=timedelta(days=config.ticket_validity_days),
        origin="fallback", previous_ticket_id=failed.id,
    )
    if message is None:
        return False
    tasks.defer(session, "send_message", tenant, message.id)
    logger.info("tenant %s: bill %d falls back from %s to %s", tenant, bill.id, failed.channel, contact.channel)
    return True


def _latest_status(session: Session, ticket_id: int) -> str | None:
    return session.scalar(select(Message.status).where(Message.ticket_id == ticket_id).order_by(Message.id.desc())
                          .limit(1))


def sweep_all(rt: Runtime, **options: Any) -> None:
    """Sweep every tenant; a failure in one tenant is logged and the others still run."""
    from bolletta.tenants.registry import all_tenant_slugs

    for slug in all_tenant_slugs(rt.db):
        try:
            sweep(rt, slug, **options)
        except Exception:  # one tenant's broken settings must not stop the others
            logger.exception("tenant %s: dispatch sweep failed", slug)


class SweeperLoop:
    """Runs :func:`sweep_all` every ``interval`` seconds in a background thread."""

    def __init__(self, rt: Runtime, interval: float = 30.0) -> None:
        self.rt = rt
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dispatch-sweeper", daemon=True)

    def start(self) -> None:
        """Start sweeping in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current round."""
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                sweep_all(self.rt)
            except Exception:  # the loop must outlive a database outage
                logger.exception("dispatch sweeper round failed")
