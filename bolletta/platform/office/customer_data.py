"""Tenant admin pages for data subject requests: export one customer's data, or erase it after a confirmation.

The customer is named in the POST body, never in a URL, so codes stay out of access logs.
"""

from __future__ import annotations

import io
import logging
from typing import Annotated, Any

import anyio
from litestar import Request, Response, Router, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body

from bolletta.platform.errors import NotFound
from bolletta.platform.office.access import page, require_admin, staff_of
from bolletta.platform.office.routes import _tenant
from bolletta.platform.privacy.export import Requester, write_archive
from bolletta.platform.privacy.requests import erase_customer, load_subject
from bolletta.platform.privacy.subjects import InvalidSubject, Subject, pseudonym
from bolletta.platform.web.context import rt

logger = logging.getLogger(__name__)

FormData = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
TEMPLATE = "office/customer_data.html"
CONFIRM_VALUE = "erase"
"""Value the confirmation box sends; a replayed first form lacks it, so it never erases anything."""


def _identifiers(data: dict[str, str]) -> dict[str, str | None]:
    return {"customer_code": data.get("customer_code", "").strip() or None,
            "fiscal_code": data.get("fiscal_code", "").strip() or None}


def _requester(request: Request[Any, Any, Any]) -> Requester:
    staff = staff_of(request)
    return Requester(username=staff.username, user_id=staff.user_id, ip=staff.ip)


async def _subject_or_page(request: Request[Any, Any, Any], data: dict[str, str]) -> Subject | Response[str]:
    """Find the customer, or return the form again with the reason when there is none."""
    staff = staff_of(request)
    tenant = await _tenant(staff)
    identifiers = _identifiers(data)
    try:
        return await anyio.to_thread.run_sync(lambda: load_subject(rt(), tenant.slug, **identifiers))
    except InvalidSubject:
        return page(request, TEMPLATE, tenant, status_code=400, mode="form", error="invalid", values=identifiers)
    except NotFound:
        return page(request, TEMPLATE, tenant, status_code=404, mode="form", error="not_found", values=identifiers)


@get("/customer-data", name="office:customer-data", guards=[require_admin])
async def customer_data_form(request: Request[Any, Any, Any]) -> Response[str]:
    """Show the form that names a customer by customer code or fiscal code."""
    tenant = await _tenant(staff_of(request))
    return page(request, TEMPLATE, tenant, mode="form", error=None, values={})


@post("/customer-data/export", name="office:customer-data-export", guards=[require_admin], status_code=200)
async def customer_data_export(request: Request[Any, Any, Any], data: FormData) -> Response[Any]:
    """Download everything held about the customer as one ZIP archive; audited."""
    found = await _subject_or_page(request, data)
    if isinstance(found, Response):
        return found
    tenant = staff_of(request).tenant or ""
    requester = _requester(request)
    buffer = io.BytesIO()
    await anyio.to_thread.run_sync(lambda: write_archive(rt(), tenant, found, buffer, requester))
    filename = f"dati-cliente-{pseudonym(rt(), tenant, found)}.zip"
    return Response(content=buffer.getvalue(), media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


@post("/customer-data/erase", name="office:customer-data-erase", guards=[require_admin], status_code=200)
async def customer_data_erase(request: Request[Any, Any, Any], data: FormData) -> Response[str]:
    """Show what an erasure would change and ask for confirmation; erase when it is given."""
    found = await _subject_or_page(request, data)
    if isinstance(found, Response):
        return found
    tenant = await _tenant(staff_of(request))
    identifiers = _identifiers(data)
    if data.get("confirm") != CONFIRM_VALUE:
        error = "unconfirmed" if "confirm_step" in data else None
        return page(request, TEMPLATE, tenant, mode="confirm", subject=found, values=identifiers, error=error,
                    confirm_value=CONFIRM_VALUE)
    requester = _requester(request)
    result = await anyio.to_thread.run_sync(lambda: erase_customer(rt(), tenant.slug, requester, **identifiers))
    return page(request, TEMPLATE, tenant, mode="done", result=result, values={}, error=None)


def customer_data_router() -> Router:
    """Build the data subject request routes under ``/office``."""
    return Router(path="/office", route_handlers=[customer_data_form, customer_data_export, customer_data_erase])
