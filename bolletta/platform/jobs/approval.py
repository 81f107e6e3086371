"""Staff decisions on a job: approve or reject the test batch, start the dispatch, cancel. All audited."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bolletta.platform import audit, clock, tasks
from bolletta.platform.db.models.tenant import Job
from bolletta.platform.errors import EmptyTestBatch, NotFound, PermissionDenied, ReasonRequired
from bolletta.platform.jobs import states
from bolletta.platform.jobs.test_batch import count_test_tickets
from bolletta.platform.jobs.withdrawal import release_job
from bolletta.platform.runtime import Runtime
from bolletta.tenants.registry import get_tenant, tenant_config

logger = logging.getLogger(__name__)

APPROVER_ROLES = frozenset({"tenant_admin", "tenant_operator", "platform_admin"})


@dataclass(frozen=True)
class Staff:
    """Who acts, for permission checks and the audit log."""

    user_id: int | None
    username: str
    role: str
    tenant: str | None
    """The user's tenant slug; ``None`` for platform admins."""
    ip: str = ""

    @property
    def actor(self) -> str:
        """The form stored in job transitions and audit entries."""
        return f"user:{self.username}"


def _job(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"Job #{job_id} not found.")
    return job


def _check_tenant(staff: Staff, tenant: str) -> None:
    if staff.role != "platform_admin" and staff.tenant != tenant:
        raise PermissionDenied("This job belongs to another tenant.")


def approve(rt: Runtime, tenant: str, job_id: int, staff: Staff) -> None:
    """Approve the test batch ("benestare"); the job then waits for "Avvia inoltro".

    Raises:
        EmptyTestBatch: the test batch reached nobody (no test recipients), so nobody checked it.
    """
    _check_tenant(staff, tenant)
    if staff.role not in APPROVER_ROLES:
        raise PermissionDenied("Your role cannot approve test batches.")
    with rt.db.tenant_session(tenant) as session:
        job = _job(session, job_id)
        if job.state == states.TEST_SENT and count_test_tickets(session, job) == 0:
            raise EmptyTestBatch(
                f"Job #{job_id} cannot be approved: its test batch reached nobody because the tenant has no "
                "test recipients. The platform operator adds them to the tenant setting test_recipients "
                "(bolletta tenant settings set). Then reject this job, whose test batch is not sent again, "
                "and upload the flow again as a new job."
            )
        states.move(session, job, states.APPROVED, actor=staff.actor)
        job.approved_by = staff.username
        job.approved_at = clock.now()
        audit.record(session, actor=staff.actor, user_id=staff.user_id, action="job.approve",
                     target=f"job:{job_id}", ip=staff.ip)
        tasks.defer(session, "notify_job", tenant, job_id, states.APPROVED)
        session.commit()
    logger.info("tenant %s: job %d approved by %s", tenant, job_id, staff.username)


def reject(rt: Runtime, tenant: str, job_id: int, staff: Staff, reason: str) -> None:
    """Reject the test batch with a reason; the job's bills are withdrawn.

    The job stays, with its report and history, but no longer blocks its archive or its document
    numbers. The utility then sends the corrected flow, or the same archive, again as a new job.

    Raises:
        ReasonRequired: ``reason`` is blank; the job is left unchanged.
    """
    _check_tenant(staff, tenant)
    if staff.role not in APPROVER_ROLES:
        raise PermissionDenied("Your role cannot reject test batches.")
    reason = reason.strip()
    if not reason:
        raise ReasonRequired(
            f"Job #{job_id} was not rejected: the reason is blank. Write why the test batch is rejected; "
            "the reason goes to the staff e-mail and the job's history."
        )
    with rt.db.tenant_session(tenant) as session:
        job = _job(session, job_id)
        states.move(session, job, states.TEST_REJECTED, actor=staff.actor, note=reason)
        job.rejection_reason = reason
        withdrawn = release_job(session, job)
        audit.record(session, actor=staff.actor, user_id=staff.user_id, action="job.reject",
                     target=f"job:{job_id}", detail={"reason": reason, "bills_withdrawn": withdrawn}, ip=staff.ip)
        tasks.defer(session, "notify_job", tenant, job_id, states.TEST_REJECTED)
        session.commit()
    logger.info("tenant %s: test batch of job %d rejected by %s", tenant, job_id, staff.username)


def start_dispatch(rt: Runtime, tenant: str, job_id: int, staff: Staff) -> None:
    """Press "Avvia inoltro": platform admins always may; tenant staff when the tenant allows it."""
    _check_tenant(staff, tenant)
    config = tenant_config(get_tenant(rt.db, tenant))
    allowed = staff.role == "platform_admin" or (
        config.may_start_dispatch and staff.role in ("tenant_admin", "tenant_operator")
    )
    if not allowed:
        raise PermissionDenied("Only the platform operator can start this tenant's dispatches.")
    with rt.db.tenant_session(tenant) as session:
        job = _job(session, job_id)
        states.move(session, job, states.DISPATCHING, actor=staff.actor)
        job.started_by = staff.username
        job.started_at = clock.now()
        job.dispatch_at = None  # started by hand: a scheduled start no longer applies
        audit.record(session, actor=staff.actor, user_id=staff.user_id, action="job.start_dispatch",
                     target=f"job:{job_id}", ip=staff.ip)
        tasks.defer(session, "create_tickets", tenant, job_id)
        tasks.defer(session, "notify_job", tenant, job_id, states.DISPATCHING)
        session.commit()
    logger.info("tenant %s: dispatch of job %d started by %s", tenant, job_id, staff.username)


def cancel(rt: Runtime, tenant: str, job_id: int, staff: Staff, reason: str = "") -> None:
    """Cancel a job before its dispatch starts (platform admins only) and e-mail the tenant's list.

    Raises:
        NotFound: no such job.
        InvalidTransition: the dispatch has started, or the job is finished.
        PermissionDenied: the staff member is not a platform admin.
    """
    if staff.role != "platform_admin":
        raise PermissionDenied("Only the platform operator can cancel a job.")
    with rt.db.tenant_session(tenant) as session:
        job = _job(session, job_id)
        states.move(session, job, states.CANCELLED, actor=staff.actor, note=reason)
        audit.record(session, actor=staff.actor, user_id=staff.user_id, action="job.cancel",
                     target=f"job:{job_id}", detail={"reason": reason} if reason else None, ip=staff.ip)
        tasks.defer(session, "notify_job", tenant, job_id, states.CANCELLED)
        session.commit()
    logger.info("tenant %s: job %d cancelled by %s", tenant, job_id, staff.username)
