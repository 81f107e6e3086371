"""Dispatches started at a time the operator chose instead of at once.

An approved job gets a ``dispatch_at``; each scheduler round starts the jobs whose time has come,
as the person who scheduled them. The start claims the job with a conditional update that clears
``dispatch_at``, so two schedulers running by mistake start it once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bolletta.platform import audit, clock, tasks
from bolletta.platform.db.models.tenant import Job
from bolletta.platform.errors import InvalidTransition, NotFound, PermissionDenied
from bolletta.platform.jobs import notes, states
from bolletta.platform.jobs.approval import Staff
from bolletta.platform.runtime import Runtime
from bolletta.tenants.registry import all_tenant_slugs, get_tenant, tenant_config

logger = logging.getLogger(__name__)

MAX_AHEAD = timedelta(days=90)
"""The latest a start may be scheduled, counted from now."""


def _may_start(rt: Runtime, tenant: str, staff: Staff) -> None:
    if staff.role == "platform_admin":
        return
    config = tenant_config(get_tenant(rt.db, tenant))
    if staff.tenant != tenant or not (config.may_start_dispatch and staff.role in ("tenant_admin", "tenant_operator")):
        raise PermissionDenied("Only the platform operator can schedule this tenant's dispatches.")


def schedule_dispatch(rt: Runtime, tenant: str, job_id: int, staff: Staff, at: datetime) -> None:
    """Have the scheduler start the approved job's dispatch at ``at`` (an aware datetime); audited.

    Raises:
        NotFound: no such job.
        InvalidTransition: the job is not approved, or ``at`` is past or more than 90 days ahead.
        PermissionDenied: the staff member may not start this tenant's dispatches.
    """
    _may_start(rt, tenant, staff)
    now = clock.now()
    if at <= now or at > now + MAX_AHEAD:
        raise InvalidTransition(
            f"The start time {at.isoformat()} must be in the future and at most {MAX_AHEAD.days} days ahead."
        )
    with rt.db.tenant_session(tenant) as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound(f"Job #{job_id} not found.")
        if job.state != states.APPROVED:
            raise InvalidTransition(f"Job #{job_id} is {job.state}: only an approved job's dispatch can be scheduled.")
        # Stored in UTC like every other time: SQLite keeps no offset, so a Rome time would read as UTC.
        job.dispatch_at = at.astimezone(UTC)
        job.dispatch_scheduled_by = staff.username
        audit.record(session, actor=staff.actor, user_id=staff.user_id, action="job.schedule_dispatch",
                     target=f"job:{job_id}", detail={"at": at.isoformat()}, ip=staff.ip)
        session.commit()
    logger.info("tenant %s: dispatch of job %d scheduled for %s by %s", tenant, job_id, at.isoformat(),
                staff.username)


def unschedule_dispatch(rt: Runtime, tenant: str, job_id: int, staff: Staff) -> None:
    """Drop the job's scheduled start; the job stays approved. Audited.

    Raises:
        NotFound: no such job, or it has no scheduled start.
        PermissionDenied: the staff member may not start this tenant's dispatches.
    """
    _may_start(rt, tenant, staff)
    with rt.db.tenant_session(tenant) as session:
        cleared = session.execute(
            update(Job).where(Job.id == job_id, Job.dispatch_at.is_not(None))
            .values(dispatch_at=None, dispatch_scheduled_by=None)
        ).rowcount  # type: ignore[attr-defined]
        if not cleared:
            raise NotFound(f"Job #{job_id} has no scheduled start.")
        audit.record(session, actor=staff.actor, user_id=staff.user_id, action="job.unschedule_dispatch",
                     target=f"job:{job_id}", ip=staff.ip)
        session.commit()


def start_due_dispatches(rt: Runtime) -> int:
    """Start every scheduled dispatch whose time has come, in every active tenant; return how many."""
    started = 0
    for slug in all_tenant_slugs(rt.db):
        if get_tenant(rt.db, slug).status != "active":
            continue
        started += _start_due(rt, slug)
    return started


def _start_due(rt: Runtime, tenant: str) -> int:
    now = clock.now()
    with rt.db.tenant_session(tenant) as session:
        due = list(session.scalars(select(Job.id).where(Job.dispatch_at.is_not(None), Job.dispatch_at <= now)))
    started = 0
    for job_id in due:
        with rt.db.tenant_session(tenant) as session:
            scheduled_by = session.scalar(select(Job.dispatch_scheduled_by).where(Job.id == job_id))
            claimed = session.execute(
                update(Job).where(Job.id == job_id, Job.dispatch_at.is_not(None), Job.dispatch_at <= now)
                .values(dispatch_at=None)
            ).rowcount  # type: ignore[attr-defined]
            if not claimed:
                continue  # another scheduler started it
            job = session.get(Job, job_id)
            assert job is not None
            actor = f"scheduler:{scheduled_by or 'unknown'}"
            try:
                states.move(session, job, states.DISPATCHING, actor=actor, note=notes.scheduled_start())
            except InvalidTransition as exc:
                # Cancelled or changed since it was scheduled: the schedule is dropped, the job left alone.
                session.commit()
                logger.warning("tenant %s: scheduled start of job %d dropped: %s", tenant, job_id, exc)
                continue
            job.started_by = scheduled_by
            job.started_at = now
            audit.record(session, actor=actor, action="job.start_dispatch", target=f"job:{job_id}",
                         detail={"scheduled": True})
            tasks.defer(session, "create_tickets", tenant, job_id)
            tasks.defer(session, "notify_job", tenant, job_id, states.DISPATCHING)
            session.commit()
            started += 1
        logger.info("tenant %s: scheduled dispatch of job %d started", tenant, job_id)
    return started
