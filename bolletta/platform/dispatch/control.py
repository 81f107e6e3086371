"""Live progress of a dispatch, and pausing and resuming it. Pause and resume are audited.

A paused job's messages that were not claimed yet stay ``created``: the worker skips them while the
job is ``paused``, and resuming queues them again. Messages already handed to a provider finish.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bolletta.platform import audit, clock, tasks
from bolletta.platform.db.models.tenant import Job, Message, Ticket
from bolletta.platform.errors import NotFound
from bolletta.platform.jobs import states
from bolletta.platform.jobs.approval import Staff, _check_tenant
from bolletta.platform.runtime import Runtime

logger = logging.getLogger(__name__)

RATE_WINDOW = timedelta(seconds=60)
HANDED = ("sent", "delivered", "timeout")
FAILED = ("failed", "rejected")


@dataclass(frozen=True)
class Progress:
    """Counts of a job's dispatch (test tickets excluded) and its current pace."""

    state: str
    total: int
    sent: int
    """Messages a provider accepted (including those delivered or timed out since)."""
    delivered: int
    failed: int
    """Messages refused or failed, including those dropped before sending."""
    uncertain: int
    remaining: int
    """Messages not handed to a provider yet (waiting, queued or paused)."""
    rate_per_second: float
    """Messages handed to providers per second over the last minute."""
    estimated_end: datetime | None
    """When the remaining messages will be handed over at the current rate; ``None`` when idle."""

    def to_dict(self) -> dict[str, Any]:
        """Return the progress as JSON-ready values."""
        values = asdict(self)
        values["estimated_end"] = self.estimated_end.isoformat() if self.estimated_end else None
        return values


def progress(rt: Runtime, tenant: str, job_id: int) -> Progress:
    """Return the job's dispatch progress now.

    Raises:
        NotFound: no such job.
    """
    now = clock.now()
    with rt.db.tenant_session(tenant) as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound(f"Job #{job_id} not found.")
        scope = (Ticket.job_id == job_id, Ticket.is_test.is_(False))
        counts = dict(session.execute(
            select(Message.status, func.count()).join(Ticket, Ticket.id == Message.ticket_id).where(*scope)
            .group_by(Message.status)
        ).all())
        recent = session.scalar(
            select(func.count()).select_from(Message).join(Ticket, Ticket.id == Message.ticket_id)
            .where(*scope, Message.sent_at >= now - RATE_WINDOW)
        ) or 0
    remaining = counts.get("created", 0)
    rate = recent / RATE_WINDOW.total_seconds()
    estimated_end = now + timedelta(seconds=remaining / rate) if rate > 0 and remaining else None
    return Progress(
        state=job.state, total=sum(counts.values()), sent=sum(counts.get(s, 0) for s in HANDED),
        delivered=counts.get("delivered", 0), failed=sum(counts.get(s, 0) for s in FAILED),
        uncertain=counts.get("uncertain", 0), remaining=remaining, rate_per_second=round(rate, 2),
        estimated_end=estimated_end,
    )


def pause(rt: Runtime, tenant: str, job_id: int, staff: Staff, *, notify: bool = False) -> None:
    """Pause a running dispatch; with ``notify``, e-mail the tenant's notification list too.

    Raises:
        NotFound: no such job.
        InvalidTransition: the job is not dispatching.
        PermissionDenied: the staff member belongs to another tenant.
    """
    _check_tenant(staff, tenant)
    with rt.db.tenant_session(tenant) as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound(f"Job #{job_id} not found.")
        states.move(session, job, states.PAUSED, actor=staff.actor)
        audit.record(session, actor=staff.actor, user_id=staff.user_id, action="job.pause", target=f"job:{job_id}",
                     ip=staff.ip)
        if notify:
            tasks.defer(session, "notify_job", tenant, job_id, "paused")
        session.commit()
    logger.info("tenant %s: dispatch of job %d paused by %s", tenant, job_id, staff.username)


def resume(rt: Runtime, tenant: str, job_id: int, staff: Staff, *, notify: bool = False) -> int:
    """Resume a paused dispatch and queue its waiting messages again; return how many were queued.

    With ``notify``, e-mail the tenant's notification list too.

    Raises:
        NotFound, InvalidTransition, PermissionDenied: as for :func:`pause`.
    """
    _check_tenant(staff, tenant)
    with rt.db.tenant_session(tenant) as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound(f"Job #{job_id} not found.")
        states.move(session, job, states.DISPATCHING, actor=staff.actor)
        waiting = list(session.scalars(
            select(Message.id).join(Ticket, Ticket.id == Message.ticket_id)
            .where(Ticket.job_id == job_id, Ticket.is_test.is_(False), Message.status == "created",
                   Message.claimed_at.is_(None))
        ))
        tasks.defer_many(session, "send_message", [(tenant, message_id) for message_id in waiting])
        audit.record(session, actor=staff.actor, user_id=staff.user_id, action="job.resume", target=f"job:{job_id}",
                     detail={"queued": len(waiting)}, ip=staff.ip)
        if notify:
            tasks.defer(session, "notify_job", tenant, job_id, "resumed")
        session.commit()
    logger.info("tenant %s: dispatch of job %d resumed by %s, %d messages queued", tenant, job_id,
                staff.username, len(waiting))
    return len(waiting)
