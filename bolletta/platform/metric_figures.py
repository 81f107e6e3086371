"""The platform's figures for Prometheus, read from each tenant's tables at scrape time.

Web, worker and scheduler processes are separate, often on separate machines, so a counter kept in
one process's memory would miss the work the others did, and prometheus_client's multiprocess mode
only merges processes that share one folder on one machine. The database is the one place every
process writes to, so the figures come from there: every web process reports the same values,
whichever worker did the work, and a restart resets nothing.

A figure is a counter here only when the rows it counts move forward alone. A message's
``sent_at`` is set once, and ``failed`` and ``rejected`` are final statuses. A job's accepted bills
change only when a rejected test batch is parsed again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Job, JobTransition, Message, OutboxTask, Payment, Ticket
from bolletta.platform.jobs import states
from bolletta.platform.runtime import Runtime
from bolletta.tenants.registry import all_tenant_slugs

FAILED_STATUSES = ("failed", "rejected")
"""Final message statuses counted as failures: the provider reported a failure, or it (or the
platform, before any provider saw it) refused the message."""

JOB_STAGES = ("parse", "dispatch", "total")
"""Stages timed per job: ``parse`` (parsing to parsed, the last run), ``dispatch`` ("Avvia inoltro"
to dispatched) and ``total`` (opened to dispatched)."""


@dataclass
class QueueReading:
    """Unfinished task outbox rows of one actor: waiting (not yet sent to the broker) or queued."""

    waiting: int = 0
    queued: int = 0
    oldest: datetime | None = None


@dataclass
class MessageCounts:
    """Messages of one channel and provider plugin."""

    sent: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


@dataclass
class TenantFigures:
    """One tenant's readings."""

    outbox: dict[str, QueueReading] = field(default_factory=dict)
    """Unfinished outbox rows by actor name."""
    jobs_by_state: dict[str, int] = field(default_factory=dict)
    bills_parsed: int = 0
    bills_rejected: int = 0
    bills_last_24h: int = 0
    last_parse_seconds: float | None = None
    job_durations: dict[str, list[float]] = field(default_factory=dict)
    """Seconds per finished stage of every job, by stage name of :data:`JOB_STAGES`."""
    messages: dict[tuple[str, str], MessageCounts] = field(default_factory=dict)
    """Keyed by (channel, provider plugin)."""
    payments: dict[tuple[str, str], int] = field(default_factory=dict)
    """Payments keyed by (gateway, status)."""

    @property
    def waiting_tasks(self) -> int:
        return sum(reading.waiting for reading in self.outbox.values())

    @property
    def queued_tasks(self) -> int:
        return sum(reading.queued for reading in self.outbox.values())

    def oldest_task(self) -> datetime | None:
        return min((reading.oldest for reading in self.outbox.values() if reading.oldest), default=None)


def read_figures(runtime: Runtime) -> dict[str, TenantFigures]:
    """Read every tenant's figures from its tables, one session per tenant."""
    now = clock.now()
    figures: dict[str, TenantFigures] = {}
    for slug in all_tenant_slugs(runtime.db):
        tenant = TenantFigures()
        with runtime.db.tenant_session(slug) as session:
            tenant.outbox = _outbox(session)
            tenant.jobs_by_state = {state: count for state, count in session.execute(
                select(Job.state, func.count(Job.id)).group_by(Job.state))}
            parsed, rejected = session.execute(select(
                func.coalesce(func.sum(Job.bills_accepted), 0), func.coalesce(func.sum(Job.bills_rejected), 0),
            )).one()
            tenant.bills_parsed, tenant.bills_rejected = int(parsed), int(rejected)
            tenant.bills_last_24h = session.scalar(select(func.coalesce(func.sum(Job.bills_accepted), 0)).where(
                Job.created_at >= now - timedelta(hours=24))) or 0
            tenant.last_parse_seconds = _last_parse_seconds(session)
            tenant.job_durations = _job_durations(session)
            tenant.messages = _messages(session)
            tenant.payments = {(gateway, status): count for gateway, status, count in session.execute(
                select(Payment.gateway, Payment.status, func.count(Payment.id)).group_by(Payment.gateway,
                                                                                         Payment.status))}
        figures[slug] = tenant
    return figures


def _outbox(session: Any) -> dict[str, QueueReading]:
    # The grouping expression has no bound parameters, so PostgreSQL sees the same expression in the
    # select list and in GROUP BY.
    waiting = OutboxTask.sent_at.is_(None)
    readings: dict[str, QueueReading] = {}
    for actor, is_waiting, count, oldest in session.execute(
        select(OutboxTask.actor, waiting, func.count(OutboxTask.id), func.min(OutboxTask.created_at))
        .where(OutboxTask.done_at.is_(None)).group_by(OutboxTask.actor, waiting)
    ):
        reading = readings.setdefault(actor, QueueReading())
        if is_waiting:
            reading.waiting = count
        else:
            reading.queued = count
        oldest = clock.as_utc(oldest)
        if reading.oldest is None or oldest < reading.oldest:
            reading.oldest = oldest
    return readings


def _messages(session: Any) -> dict[tuple[str, str], MessageCounts]:
    counts: dict[tuple[str, str], MessageCounts] = {}
    for channel, plugin, status, count, sent in session.execute(
        select(Ticket.channel, Message.plugin, Message.status, func.count(Message.id), func.count(Message.sent_at))
        .join(Ticket, Ticket.id == Message.ticket_id).group_by(Ticket.channel, Message.plugin, Message.status)
    ):
        entry = counts.setdefault((channel, plugin), MessageCounts())
        entry.sent += sent
        entry.by_status[status] = count
    return counts


def _last_parse_seconds(session: Any) -> float | None:
    parsed = session.execute(
        select(JobTransition.job_id, JobTransition.at).where(JobTransition.to_state == states.PARSED)
        .order_by(JobTransition.id.desc()).limit(1)
    ).first()
    if parsed is None:
        return None
    started = session.scalar(select(func.min(JobTransition.at)).where(
        JobTransition.job_id == parsed.job_id, JobTransition.to_state == states.PARSING))
    if started is None:
        return None
    return max(0.0, (clock.as_utc(parsed.at) - clock.as_utc(started)).total_seconds())


def _job_durations(session: Any) -> dict[str, list[float]]:
    """Stage durations of every job: the parse from its transitions, the rest from its timestamps.

    A job parsed again after a rejected test batch counts its last parse only, so each job adds at
    most one observation per stage.
    """
    parse_started: dict[int, datetime] = {}
    parse: dict[int, float] = {}
    for job_id, to_state, at in session.execute(
        select(JobTransition.job_id, JobTransition.to_state, JobTransition.at)
        .where(JobTransition.to_state.in_((states.PARSING, states.PARSED))).order_by(JobTransition.id)
    ):
        if to_state == states.PARSING:
            parse_started[job_id] = clock.as_utc(at)
        elif job_id in parse_started:
            parse[job_id] = (clock.as_utc(at) - parse_started[job_id]).total_seconds()
    durations: dict[str, list[float]] = {"parse": [max(0.0, value) for value in parse.values()],
                                         "dispatch": [], "total": []}
    for created_at, started_at, finished_at in session.execute(
        select(Job.created_at, Job.started_at, Job.finished_at)
        .where(Job.state == states.DISPATCHED, Job.finished_at.is_not(None))
    ):
        finished = clock.as_utc(finished_at)
        if started_at is not None:
            durations["dispatch"].append(max(0.0, (finished - clock.as_utc(started_at)).total_seconds()))
        durations["total"].append(max(0.0, (finished - clock.as_utc(created_at)).total_seconds()))
    return durations
