"""Contacts upload in the backoffice ("Carica recapiti"): a contacts CSV for the contacts directory.

The page is for tenant admins and operators, posts a multipart form with the CSRF token and shows
the import report, with contacts masked. The import itself is audited by
:func:`bolletta.platform.contacts.directory.import_contacts`.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
from litestar import Request, Response, Router, get, post
from litestar.datastructures import UploadFile

from bolletta.platform.api.errors import format_size
from bolletta.platform.contacts import directory
from bolletta.platform.office.routes import _staff, _tenant
from bolletta.platform.office.upload import require_uploader
from bolletta.platform.settings import Settings
from bolletta.platform.web.context import rt
from bolletta.platform.web.templates import render

logger = logging.getLogger(__name__)

FILE_FIELD = "contacts"


async def _page(
    request: Request[Any, Any, Any], *, error: str | None = None, report: directory.ImportReport | None = None,
    status_code: int = 200,
) -> Response[str]:
    staff = _staff(request)
    tenant = await _tenant(staff)
    max_bytes = request.route_handler.resolve_request_max_body_size() or 0
    return render(request, "office/contacts.html", status_code=status_code, staff=staff, tenant=tenant,
                  error=error, report=report, max_size=format_size(max_bytes))


@get("/contacts", name="office:contacts", guards=[require_uploader])
async def contacts_page(request: Request[Any, Any, Any]) -> Response[str]:
    """Show the contacts upload form."""
    return await _page(request)


@post("/contacts", name="office:contacts-submit", guards=[require_uploader])
async def contacts_submit(request: Request[Any, Any, Any]) -> Response[str]:
    """Import the uploaded contacts CSV into the directory and show its report."""
    staff = _staff(request)
    assert staff.tenant is not None  # the guard admits tenant staff only
    form = await request.form()
    upload = form.get(FILE_FIELD)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _page(request, error="missing", status_code=400)
    try:
        filename = upload.filename.replace("\\", "/").rsplit("/", 1)[-1]
        data = await upload.read()
    finally:
        await upload.close()
    if not data:
        return await _page(request, error="empty", status_code=400)

    tenant = staff.tenant
    report = await anyio.to_thread.run_sync(
        lambda: directory.import_contacts(rt(), tenant, data, filename, origin="office", actor=staff.actor,
                                          user_id=staff.user_id, ip=staff.ip)
    )
    logger.info("tenant %s: %s imported contacts file %s", tenant, staff.username, filename)
    return await _page(request, report=report, status_code=200 if report.file_error is None else 422)


def contacts_router(settings: Settings) -> Router:
    """Build the contacts upload routes under ``/office``, with the upload body limit of ``settings``."""
    return Router(path="/office", route_handlers=[contacts_page, contacts_submit],
                  request_max_body_size=settings.upload_max_bytes)
