"""Flow upload in the backoffice ("Carica flusso"): a multipart form that opens a job.

The page works without JavaScript; ``/static/office-upload.js`` adds drag and drop and a progress
bar. Litestar's multipart parser writes the file part to a temporary file past 1 MiB, and the body
size limit applies while it arrives.
"""

from __future__ import annotations

import io
import logging
from typing import IO, Any

import anyio
from litestar import Request, Response, Router, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import UploadFile
from litestar.exceptions import PermissionDeniedException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Redirect

from bolletta.platform import audit
from bolletta.platform.api.errors import format_size
from bolletta.platform.jobs.approval import Staff
from bolletta.platform.jobs.inbox import FLOW_SUFFIXES
from bolletta.platform.jobs.opening import OpenedJob, open_job
from bolletta.platform.office.routes import _staff, _tenant
from bolletta.platform.office.staff import current_staff, require_tenant_staff
from bolletta.platform.settings import Settings
from bolletta.platform.web.context import rt
from bolletta.platform.web.templates import render
from bolletta.tenants.registry import get_tenant

logger = logging.getLogger(__name__)

UPLOADER_ROLES = frozenset({"tenant_admin", "tenant_operator"})
ARCHIVE_FIELD = "archive"


def require_uploader(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Guard: a tenant admin or operator (viewers read jobs but do not open them)."""
    require_tenant_staff(connection, handler)
    staff = current_staff(connection)
    if staff is None or staff.role not in UPLOADER_ROLES:
        raise PermissionDeniedException("Your role cannot upload flows.")


def _max_bytes(request: Request[Any, Any, Any]) -> int:
    return request.route_handler.resolve_request_max_body_size() or 0


async def _upload_page(request: Request[Any, Any, Any], *, error: str | None, status_code: int = 200) -> Response[str]:
    staff = _staff(request)
    tenant = await _tenant(staff)
    return render(request, "office/upload.html", status_code=status_code, staff=staff, tenant=tenant,
                  error=error, max_size=format_size(_max_bytes(request)), suffixes=", ".join(FLOW_SUFFIXES))


@get("/upload", name="office:upload", guards=[require_uploader])
async def upload_page(request: Request[Any, Any, Any]) -> Response[str]:
    """Show the upload form."""
    return await _upload_page(request, error=None)


def _open_and_audit(staff: Staff, data: IO[bytes], size: int, filename: str) -> OpenedJob:
    assert staff.tenant is not None  # the guard admits tenant staff only
    runtime = rt()
    opened = open_job(runtime, staff.tenant, data, filename, source="office", opened_by=staff.actor)
    with runtime.db.tenant_session(staff.tenant) as session:
        audit.record(session, actor=staff.actor, user_id=staff.user_id, action="job.upload",
                     target=f"job:{opened.job_id}", ip=staff.ip,
                     detail={"filename": filename, "size": size, "created": opened.created})
        session.commit()
    return opened


async def _rejected(request: Request[Any, Any, Any], staff: Staff, error: str, filename: str) -> Response[str]:
    logger.info("tenant %s: upload of %r by %s rejected: %s", staff.tenant, filename, staff.username, error)
    return await _upload_page(request, error=error, status_code=400)


# NOTE: Litestar's CSRF middleware parses the multipart body before the guards run, so a request
# without a session or with a viewer's session is read up to the size limit before its 403.
@post("/upload", name="office:upload-submit", guards=[require_uploader])
async def upload_submit(request: Request[Any, Any, Any]) -> Response[Any]:
    """Open a job for the uploaded file and show it; an archive uploaded before shows its existing job."""
    staff = _staff(request)
    form = await request.form()
    upload = form.get(ARCHIVE_FIELD)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _rejected(request, staff, "missing", "")
    # The upload is a temporary file that moves to disk past 1 MiB. The job opens from it in chunks,
    # so the archive never sits in memory whole.
    try:
        filename = upload.filename.replace("\\", "/").rsplit("/", 1)[-1]
        if not filename.lower().endswith(FLOW_SUFFIXES):
            return await _rejected(request, staff, "not_flow", filename)
        size = await anyio.to_thread.run_sync(upload.file.seek, 0, io.SEEK_END)
        if not size:
            return await _rejected(request, staff, "empty", filename)
        if (await anyio.to_thread.run_sync(get_tenant, rt().db, staff.tenant or "")).status != "active":
            return await _rejected(request, staff, "suspended", filename)
        opened = await anyio.to_thread.run_sync(_open_and_audit, staff, upload.file, size, filename)
    finally:
        await upload.close()
    logger.info("tenant %s: %s uploaded %s (%d bytes) as job %d%s", staff.tenant, staff.username, filename,
                size, opened.job_id, "" if opened.created else ", already known")
    notice = "" if opened.created else "?notice=duplicate"
    return Redirect(f"/office/jobs/{opened.job_id}{notice}", status_code=303)


def _too_large(request: Request[Any, Any, Any], _exc: RequestEntityTooLarge) -> Response[Any]:
    # Exception handlers run synchronously, so the page goes without the tenant name (a database read).
    staff = current_staff(request)
    max_bytes = _max_bytes(request)
    logger.warning("office: upload over %d bytes rejected for %s", max_bytes,
                   staff.username if staff else "a visitor without a session")
    if staff is None or staff.tenant is None:
        return Response(content="Request entity too large", status_code=413, media_type="text/plain")
    return render(request, "office/upload.html", status_code=413, staff=staff, error="too_large",
                  max_size=format_size(max_bytes), suffixes=", ".join(FLOW_SUFFIXES))


def upload_router(settings: Settings) -> Router:
    """Build the upload routes under ``/office``, with the body size limit of ``settings``."""
    return Router(
        path="/office",
        route_handlers=[upload_page, upload_submit],
        request_max_body_size=settings.upload_max_bytes,
        exception_handlers={RequestEntityTooLarge: _too_large},
    )
