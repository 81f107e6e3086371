"""Backoffice endpoints of a running dispatch: live progress as JSON, pause and resume."""

from __future__ import annotations

from typing import Any

import anyio
from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from bolletta.platform.dispatch import control
from bolletta.platform.errors import BollettaError, NotFound
from bolletta.platform.office.staff import current_staff, require_tenant_staff
from bolletta.platform.web.context import rt


def _tenant_of(request: Request[Any, Any, Any]) -> Any:
    staff = current_staff(request)
    assert staff is not None and staff.tenant is not None  # the guard ran first
    return staff


@get("/office/jobs/{job_id:int}/progress.json", name="office:dispatch-progress", guards=[require_tenant_staff])
async def dispatch_progress(request: Request[Any, Any, Any], job_id: FromPath[int]) -> dict[str, Any]:
    """Sent, failed, remaining, rate and estimated end of the job's dispatch."""
    staff = _tenant_of(request)
    try:
        result = await anyio.to_thread.run_sync(control.progress, rt(), staff.tenant, job_id)
    except NotFound as exc:
        raise NotFoundException() from exc
    return result.to_dict()


async def _act(request: Request[Any, Any, Any], job_id: int, action: str) -> Response[Any]:
    staff = _tenant_of(request)
    function = control.pause if action == "pause" else control.resume
    try:
        await anyio.to_thread.run_sync(function, rt(), staff.tenant, job_id, staff)
    except NotFound as exc:
        raise NotFoundException() from exc
    except BollettaError as exc:
        return Response(content={"error": str(exc)}, status_code=409)
    return Response(content={"state": "paused" if action == "pause" else "dispatching"}, status_code=200)


@post("/office/jobs/{job_id:int}/pause", name="office:dispatch-pause", guards=[require_tenant_staff])
async def pause_dispatch(request: Request[Any, Any, Any], job_id: FromPath[int]) -> Response[Any]:
    """Pause the dispatch."""
    return await _act(request, job_id, "pause")


@post("/office/jobs/{job_id:int}/resume", name="office:dispatch-resume", guards=[require_tenant_staff])
async def resume_dispatch(request: Request[Any, Any, Any], job_id: FromPath[int]) -> Response[Any]:
    """Resume the dispatch."""
    return await _act(request, job_id, "resume")
