"""The tenant backoffice: sign-in, jobs with their report and actions, tickets."""

from __future__ import annotations

import logging
from functools import partial
from typing import Annotated, Any

import anyio
from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect
from sqlalchemy import select

from bolletta.platform import audit
from bolletta.platform.db.models.platform import Tenant
from bolletta.platform.errors import BollettaError, EmptyTestBatch, ReasonRequired
from bolletta.platform.jobs import approval, notes, states
from bolletta.platform.jobs.approval import Staff
from bolletta.platform.office import job_page, lockout, two_factor
from bolletta.platform.office.staff import (
    current_staff,
    end_sessions,
    require_tenant_staff,
    sign_in,
    sign_out_here,
)
from bolletta.platform.privacy import mask_contact
from bolletta.platform.web.context import client_ip, rt
from bolletta.platform.web.csrf import rotate_csrf_token
from bolletta.platform.web.templates import render
from bolletta.tenants.accounts import authenticate_user
from bolletta.tenants.config import decode_config
from bolletta.tenants.registry import tenant_by_id

logger = logging.getLogger(__name__)

LOGGED_USERNAME_CHARS = 64
FormData = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _staff(request: Request[Any, Any, Any]) -> Staff:
    staff = current_staff(request)
    assert staff is not None and staff.tenant is not None  # the guard ran first
    return staff


async def _tenant(staff: Staff) -> Tenant:
    async with rt().db.platform_async_session() as session:
        tenant = await session.scalar(select(Tenant).where(Tenant.slug == staff.tenant))
    if tenant is None:
        raise NotFoundException()
    return tenant


@get("/office/login", name="office:login")
async def login_page(request: Request[Any, Any, Any]) -> Response[str]:
    """Render the sign-in form, with a notice after a TOTP change ended the session."""
    return render(request, "office/login.html", error=None,
                  changed=request.query_params.get("changed") == "two-factor")


def _authenticate_and_audit(username: str, password: str, ip: str) -> tuple[Any, Any]:
    runtime = rt()
    if lockout.is_locked(runtime.db, username, ip):
        logger.warning("office: sign-in of locked or slowed username %r from %s",
                       username[:LOGGED_USERNAME_CHARS], ip)
        return None, None
    user = authenticate_user(runtime.db, username, password)
    if user is None or user.tenant_id is None:
        if lockout.record_failure(runtime.db, username, ip):
            logger.warning("office: username %r locked for address %s after %d failed sign-ins",
                           username[:LOGGED_USERNAME_CHARS], ip, lockout.MAX_FAILURES)
        return None, None
    tenant = tenant_by_id(runtime.db, user.tenant_id)
    if two_factor.next_step(user, tenant) is not None:
        return user, tenant  # the failure count is cleared and the sign-in audited when the code is accepted
    lockout.clear(runtime.db, username, ip)
    with runtime.db.tenant_session(tenant.slug) as session:
        audit.record(session, actor=f"user:{user.username}", user_id=user.id, action="staff.sign_in", ip=ip)
        session.commit()
    return user, tenant


@post("/office/login", name="office:login-submit")
async def login_submit(request: Request[Any, Any, Any], data: FormData) -> Response[Any]:
    """Check the credentials; the same message for a wrong user or a wrong password."""
    username = data.get("username", "").strip()
    user, tenant = await anyio.to_thread.run_sync(
        _authenticate_and_audit, username, data.get("password", ""), client_ip(request)
    )
    if user is None:
        logger.warning("office: sign-in failed for username %r from %s",
                       username[:LOGGED_USERNAME_CHARS], client_ip(request))
        return render(request, "office/login.html", status_code=401, error="invalid")
    step = two_factor.next_step(user, tenant)
    if step is not None:
        return two_factor.start_pending(request, user, tenant, step)
    sign_in(request, user, tenant)
    response = Redirect("/office/", status_code=303)
    rotate_csrf_token(request, response)
    return response


@post("/office/logout", name="office:logout")
async def logout(request: Request[Any, Any, Any]) -> Response[Any]:
    """End the staff session."""
    staff = current_staff(request)
    sign_out_here(request)
    if staff is not None and staff.user_id is not None:
        # A copy of the cookie taken before sign-out must not work afterwards.
        await anyio.to_thread.run_sync(end_sessions, rt().db, staff.user_id)
    return Redirect("/office/login", status_code=303)


@get("/office/jobs/{job_id:int}", name="office:job", guards=[require_tenant_staff])
async def job_detail(request: Request[Any, Any, Any], job_id: FromPath[int]) -> Response[str]:
    """Render a job's report, transitions, test batch and the actions its state allows.

    The ``page`` query parameter picks the page of each report section; see :mod:`job_page`.
    """
    return await _job_page(request, job_id, request.query_params.get("error"))


async def _job_page(
    request: Request[Any, Any, Any], job_id: int, error: str | None, status_code: int = 200
) -> Response[str]:
    staff = _staff(request)
    tenant = await _tenant(staff)
    try:
        page = int(request.query_params.get("page", "1"))
    except ValueError:
        page = 1
    data = await anyio.to_thread.run_sync(job_page.load_job_page, tenant.slug, job_id, page)
    if data is None:
        raise NotFoundException()
    job = data.job
    config = decode_config(tenant.settings)
    test_batch_empty = job.state == states.TEST_SENT and not any(
        ticket.test_round == job.test_round for ticket in data.test_tickets)
    page_html = partial(
        render, request, "office/job.html", staff=staff, tenant=tenant, job=job, bills=data.bills,
        bills_total=data.bills_total, report_page=data.report, rows_per_page=job_page.ROWS_PER_PAGE,
        test_tickets=data.test_tickets,
        may_start=config.may_start_dispatch, mask=mask_contact, error=error,
        test_batch_empty=test_batch_empty, read_note=notes.read_note, status_code=status_code,
    )
    return await anyio.to_thread.run_sync(page_html)


async def _act(request: Request[Any, Any, Any], job_id: FromPath[int], action: str, reason: str = "") -> Response[Any]:
    staff = _staff(request)
    assert staff.tenant is not None
    try:
        if action == "approve":
            await anyio.to_thread.run_sync(approval.approve, rt(), staff.tenant, job_id, staff)
        elif action == "reject":
            await anyio.to_thread.run_sync(approval.reject, rt(), staff.tenant, job_id, staff, reason)
        else:
            await anyio.to_thread.run_sync(approval.start_dispatch, rt(), staff.tenant, job_id, staff)
    except ReasonRequired as exc:
        logger.warning("tenant %s: reject of job %d by %s failed: %s", staff.tenant, job_id, staff.username, exc)
        return await _job_page(request, job_id, "reason_required", status_code=400)
    except BollettaError as exc:
        logger.warning("tenant %s: %s of job %d by %s rejected: %s", staff.tenant, action, job_id,
                       staff.username, exc)
        error = "empty_test_batch" if isinstance(exc, EmptyTestBatch) else action
        return Redirect(f"/office/jobs/{job_id}?error={error}", status_code=303)
    return Redirect(f"/office/jobs/{job_id}", status_code=303)


@post("/office/jobs/{job_id:int}/approve", name="office:approve", guards=[require_tenant_staff])
async def approve_job(request: Request[Any, Any, Any], job_id: FromPath[int]) -> Response[Any]:
    """Approve the test batch ("Benestare")."""
    return await _act(request, job_id, "approve")


@post("/office/jobs/{job_id:int}/reject", name="office:reject", guards=[require_tenant_staff])
async def reject_job(request: Request[Any, Any, Any], job_id: FromPath[int], data: FormData) -> Response[Any]:
    """Reject the test batch with a reason; a blank reason shows the page again with a 400."""
    return await _act(request, job_id, "reject", data.get("reason", ""))


@post("/office/jobs/{job_id:int}/start", name="office:start", guards=[require_tenant_staff])
async def start_job(request: Request[Any, Any, Any], job_id: FromPath[int]) -> Response[Any]:
    """Start the dispatch ("Avvia inoltro")."""
    return await _act(request, job_id, "start")
