"""The cross-tenant job list and the operator's actions on a job: start dispatch now, pause, resume, cancel.

Each action calls the function the backoffice uses (``jobs/approval.py``, ``dispatch/control.py``).
That function checks the job's state, audits on the tenant and e-mails the tenant's notification
list. The console adds an entry to the platform audit log as well.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import anyio
from litestar import Request, Response, Router, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import Body, FromPath
from litestar.response import Redirect
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from bolletta.platform import audit, clock
from bolletta.platform.admin.access import admin_of, admin_page, require_platform_admin
from bolletta.platform.admin.health import all_tenants
from bolletta.platform.db.models.tenant import Job
from bolletta.platform.dispatch import control
from bolletta.platform.errors import BollettaError, NotFound
from bolletta.platform.jobs import approval, scheduled_start, states
from bolletta.platform.jobs.approval import Staff
from bolletta.platform.runtime import Runtime
from bolletta.platform.web.context import rt
from bolletta.tenants.registry import get_tenant

logger = logging.getLogger(__name__)

FormData = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
FINISHED = (states.DISPATCHED, states.CANCELLED)
OPEN = "open"
"""The default filter: every job not dispatched and not cancelled."""
MAX_ROWS = 200
ACTIONS = ("start", "pause", "resume", "cancel")


@dataclass(frozen=True)
class JobRow:
    """One job of the cross-tenant list, with the operator actions its state allows."""

    tenant: str
    tenant_name: str
    id: int
    state: str
    filename: str
    created_at: datetime
    updated_at: datetime
    bills_accepted: int
    dispatch_at: datetime | None = None
    """The scheduled start of the dispatch, if any."""

    @property
    def actions(self) -> list[str]:
        """The actions this job's state allows, in the order the page shows them."""
        allowed = states.ALLOWED.get(self.state, frozenset())
        available = []
        if self.state == states.APPROVED:
            available.append("start")
        if self.state == states.DISPATCHING:
            available.append("pause")
        if self.state == states.PAUSED:
            available.append("resume")
        if states.CANCELLED in allowed:
            available.append("cancel")
        return available


def list_jobs(runtime: Runtime, tenant: str | None, state: str) -> tuple[list[JobRow], list[str]]:
    """Jobs of every tenant (or of ``tenant``) in ``state`` (or every open one), newest change first.

    Returns the rows, at most :data:`MAX_ROWS`, and the slugs of tenants whose jobs could not be read.
    """
    rows: list[JobRow] = []
    unreadable: list[str] = []
    for row in all_tenants(runtime):
        if tenant and row.slug != tenant:
            continue
        query = select(Job).order_by(Job.updated_at.desc()).limit(MAX_ROWS)
        query = query.where(Job.state.not_in(FINISHED)) if state == OPEN else query.where(Job.state == state)
        try:
            with runtime.db.tenant_session(row.slug) as session:
                rows += [JobRow(tenant=row.slug, tenant_name=row.name, id=job.id, state=job.state,
                                filename=job.filename, created_at=job.created_at, updated_at=job.updated_at,
                                bills_accepted=job.bills_accepted, dispatch_at=job.dispatch_at)
                         for job in session.scalars(query)]
        except (SQLAlchemyError, BollettaError) as exc:
            logger.warning("admin: jobs of tenant %s not readable: %s", row.slug, type(exc).__name__)
            unreadable.append(row.slug)
    rows.sort(key=lambda job: job.updated_at, reverse=True)
    return rows[:MAX_ROWS], unreadable


@get("/admin/jobs", name="admin:jobs", guards=[require_platform_admin])
async def jobs_page(request: Request[Any, Any, Any]) -> Response[str]:
    """List the jobs of every tenant, filtered by tenant and state, with the actions each allows."""
    tenant = (request.query_params.get("tenant") or "").strip()[:40] or None
    state = request.query_params.get("state") or OPEN
    if state != OPEN and state not in states.ALLOWED:
        state = OPEN
    rows, unreadable = await anyio.to_thread.run_sync(list_jobs, rt(), tenant, state)
    return admin_page(request, "admin/jobs.html", rows=rows, unreadable=unreadable, tenant=tenant or "",
                      state=state, states=list(states.ALLOWED), done=request.query_params.get("done"),
                      error=request.query_params.get("error"))


def run_action(runtime: Runtime, staff: Staff, tenant: str, job_id: int, action: str) -> None:
    """Apply ``action`` to the job and add it to the platform audit log.

    Raises:
        NotFound: no such tenant or job.
        InvalidTransition: the job's state does not allow the action.
    """
    get_tenant(runtime.db, tenant)  # NotFound before any tenant session could create a database file
    if action == "start":
        approval.start_dispatch(runtime, tenant, job_id, staff)
    elif action == "pause":
        control.pause(runtime, tenant, job_id, staff, notify=True)
    elif action == "resume":
        control.resume(runtime, tenant, job_id, staff, notify=True)
    else:
        approval.cancel(runtime, tenant, job_id, staff)
    with runtime.db.platform_session() as session:
        audit.record_platform(session, actor=staff.actor, user_id=staff.user_id, action=f"job.{action}",
                              target=tenant, detail={"job": job_id}, ip=staff.ip)
        session.commit()
    logger.info("admin: %s of job %d of tenant %s by %s", action, job_id, tenant, staff.username)


@post("/admin/tenants/{slug:str}/jobs/{job_id:int}/{action:str}", name="admin:job-action",
      guards=[require_platform_admin])
async def job_action(request: Request[Any, Any, Any], slug: FromPath[str], job_id: FromPath[int],
                     action: FromPath[str]) -> Response[Any]:
    """Start the dispatch now, pause, resume or cancel a tenant's job, then return to the list."""
    if action not in ACTIONS:
        raise ValidationException(f"Unknown action {action!r}: use one of {', '.join(ACTIONS)}.")
    try:
        await anyio.to_thread.run_sync(run_action, rt(), admin_of(request), slug, job_id, action)
    except NotFound as exc:
        raise NotFoundException(str(exc)) from exc
    except BollettaError as exc:
        logger.warning("admin: %s of job %d of tenant %s refused: %s", action, job_id, slug, exc)
        return Redirect(f"/admin/jobs?error={action}", status_code=303)
    return Redirect(f"/admin/jobs?done={action}", status_code=303)


def read_start_time(value: str) -> datetime:
    """Read a ``datetime-local`` form value as a time in Europe/Rome.

    Raises:
        ValidationException: the value is not a date and time such as ``2026-12-24T21:30``.
    """
    try:
        naive = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValidationException(f"{value!r} is not a date and time such as 2026-12-24T21:30.") from exc
    return naive.replace(tzinfo=clock.ROME) if naive.tzinfo is None else naive


def schedule_action(runtime: Runtime, staff: Staff, tenant: str, job_id: int, at: datetime | None) -> None:
    """Schedule the job's dispatch start at ``at``, or drop its schedule when ``at`` is ``None``; audited."""
    get_tenant(runtime.db, tenant)
    if at is None:
        scheduled_start.unschedule_dispatch(runtime, tenant, job_id, staff)
    else:
        scheduled_start.schedule_dispatch(runtime, tenant, job_id, staff, at)
    with runtime.db.platform_session() as session:
        audit.record_platform(session, actor=staff.actor, user_id=staff.user_id,
                              action="job.schedule" if at else "job.unschedule", target=tenant,
                              detail={"job": job_id, "at": at.isoformat() if at else None}, ip=staff.ip)
        session.commit()


@post("/admin/tenants/{slug:str}/jobs/{job_id:int}/schedule", name="admin:job-schedule",
      guards=[require_platform_admin])
async def job_schedule(request: Request[Any, Any, Any], slug: FromPath[str], job_id: FromPath[int],
                       data: FormData) -> Response[Any]:
    """Schedule the start of an approved job's dispatch (Europe/Rome time), or drop the schedule."""
    at = None if data.get("clear") else read_start_time(data.get("at", ""))
    try:
        await anyio.to_thread.run_sync(schedule_action, rt(), admin_of(request), slug, job_id, at)
    except NotFound as exc:
        raise NotFoundException(str(exc)) from exc
    except BollettaError as exc:
        logger.warning("admin: scheduling job %d of tenant %s refused: %s", job_id, slug, exc)
        return Redirect("/admin/jobs?error=schedule", status_code=303)
    return Redirect("/admin/jobs?done=schedule", status_code=303)


def jobs_router() -> Router:
    """Build the cross-tenant job list and action routes."""
    return Router(path="/", route_handlers=[jobs_page, job_action, job_schedule])
