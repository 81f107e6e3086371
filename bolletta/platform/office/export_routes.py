"""Export routes: a list's CSV or XLSX with its filters, and the page of background exports."""

from __future__ import annotations

import contextlib
from typing import Any

import anyio
from litestar import Request, Response, Router, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Stream
from sqlalchemy import select

from bolletta.platform.db.models.tenant import Export
from bolletta.platform.office import exports
from bolletta.platform.office.access import page, require_acting, staff_language, staff_of
from bolletta.platform.office.routes import _tenant
from bolletta.platform.web.context import rt

LISTED = 50


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}


@post("/exports/{name:str}/{file_format:str}", name="office:export", guards=[require_acting], status_code=200)
async def export_list(
    request: Request[Any, Any, Any], name: FromPath[str], file_format: FromPath[str]
) -> Response[Any]:
    """Export the list ``name`` with the filters of the query string; large lists go to the background."""
    staff = staff_of(request)
    assert staff.tenant is not None
    params = {key: value for key, value in request.query_params.items() if key not in ("page", "size")}
    try:
        result = await anyio.to_thread.run_sync(
            lambda: exports.request_export(rt(), staff.tenant or "", staff, name, file_format, params,
                                           staff_language(request))
        )
    except exports.ExportRefused as exc:
        raise NotFoundException(str(exc)) from exc
    if result.content is None:
        return Redirect(f"/office/exports?queued={result.export_id}", status_code=303)
    return Response(content=result.content, media_type=exports.MEDIA_TYPES[file_format],
                    headers=_attachment(result.filename))


def _list_exports(tenant: str, user_id: int | None, everyone: bool) -> list[Export]:
    with rt().db.tenant_session(tenant) as session:
        query = select(Export).order_by(Export.id.desc()).limit(LISTED)
        if not everyone:
            query = query.where(Export.user_id == user_id)
        found = list(session.scalars(query))
        session.expunge_all()
        return found


@get("/exports", name="office:exports", guards=[require_acting])
async def exports_page(request: Request[Any, Any, Any]) -> Response[str]:
    """List the background exports: queued, running, ready for download or failed."""
    staff = staff_of(request)
    tenant = await _tenant(staff)
    rows = await anyio.to_thread.run_sync(_list_exports, tenant.slug, staff.user_id, staff.role == "tenant_admin")
    return page(request, "office/exports.html", tenant, exports=rows, queued=request.query_params.get("queued"))


@get("/exports/{export_id:int}/download", name="office:export-download", guards=[require_acting])
async def export_download(request: Request[Any, Any, Any], export_id: FromPath[int]) -> Response[Any]:
    """Download a ready background export; audited."""
    staff = staff_of(request)
    found = await anyio.to_thread.run_sync(exports.download, rt(), staff.tenant or "", staff, export_id)
    if found is None:
        raise NotFoundException()
    export, handle = found

    async def chunks() -> Any:
        with contextlib.closing(handle):
            while block := await anyio.to_thread.run_sync(handle.read, 1 << 20):
                yield block

    filename = f"{export.kind}-{export.id}.{export.file_format}"
    return Stream(chunks(), media_type=exports.MEDIA_TYPES[export.file_format], headers=_attachment(filename))


def exports_router() -> Router:
    """Build the export routes under ``/office``."""
    return Router(path="/office", route_handlers=[export_list, exports_page, export_download])
