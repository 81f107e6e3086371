"""Where the gateway sends the customer back, and the page that posts a gateway's form.

Return and cancel URLs are built by the platform for each attempt
(``/c/<tenant>/b/<bill>/pagamento/<order id>/esito`` and ``.../annullato``). Their handlers read
nothing from the query string: a return only queues a server-side confirmation and shows the
summary, which says "payment being verified" until a verified outcome arrives.
"""

from __future__ import annotations

from typing import Any

import anyio
import httpx
from litestar import Request, Response, get
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import select

from bolletta.platform.db.models.tenant import Bill, Payment
from bolletta.platform.payments.service import defer_settlement
from bolletta.platform.portal.page import payment_language
from bolletta.platform.runtime import Runtime
from bolletta.platform.web.context import active_tenant, rt
from bolletta.platform.web.security import CONTENT_SECURITY_POLICY
from bolletta.platform.web.templates import render
from bolletta.tenants.config import decode_config

NO_STORE = CacheControlHeader(no_store=True)


def _queue_confirmation(runtime: Runtime, slug: str, public_id: str, order_id: str, capture: bool) -> bool:
    with runtime.db.tenant_session(slug) as session:
        found = session.scalar(
            select(Payment.id).join(Bill, Bill.id == Payment.bill_id)
            .where(Payment.order_id == order_id, Bill.public_id == public_id)
        )
        if found is None:
            return False
        defer_settlement(session, slug, order_id, capture=capture)
        session.commit()
    return True


async def _back_to_summary(slug: str, public_id: str, order_id: str, *, capture: bool, mark: str) -> Response[Any]:
    if await active_tenant(slug) is None:
        raise NotFoundException()
    if not await anyio.to_thread.run_sync(_queue_confirmation, rt(), slug, public_id, order_id, capture):
        raise NotFoundException()
    return Redirect(f"/c/{slug}/b/{public_id}/sommario?payment={mark}", status_code=303)


@get("/c/{slug:str}/b/{public_id:str}/pagamento/{order_id:str}/esito", name="payments:return",
     cache_control=NO_STORE)
async def payment_return(slug: FromPath[str], public_id: FromPath[str], order_id: FromPath[str]) -> Response[Any]:
    """Queue the server-side confirmation (PayPal's capture) and show the summary."""
    return await _back_to_summary(slug, public_id, order_id, capture=True, mark="returned")


@get("/c/{slug:str}/b/{public_id:str}/pagamento/{order_id:str}/annullato", name="payments:cancel",
     cache_control=NO_STORE)
async def payment_cancel(slug: FromPath[str], public_id: FromPath[str], order_id: FromPath[str]) -> Response[Any]:
    """Queue a status query for the abandoned attempt and show the summary."""
    return await _back_to_summary(slug, public_id, order_id, capture=False, mark="cancelled")


@get("/c/{slug:str}/pagamento/{order_id:str}/invio", name="payments:form", cache_control=NO_STORE)
async def payment_form(request: Request[Any, Any, Any], slug: FromPath[str], order_id: FromPath[str]) -> Response[str]:
    """Render the form that posts the attempt's fields to the gateway's hosted page, in the bill page's language."""
    tenant = await active_tenant(slug)
    if tenant is None:
        raise NotFoundException()
    config = decode_config(tenant.settings)
    async with rt().db.tenant_async_session(slug) as session:
        row = (await session.execute(
            select(Payment, Bill).join(Bill, Bill.id == Payment.bill_id)
            .where(Payment.order_id == order_id, Payment.status == "pending")
        )).first()
        if row is None or "form" not in (row.Payment.provider_data or {}):
            raise NotFoundException()
        language = await payment_language(request, session, config, row.Payment, row.Bill)
    action, fields = str(row.Payment.provider_data["form_url"]), dict(row.Payment.provider_data["form"])
    response = render(request, "portal/payment_form.html", language=language, tenant=tenant, config=config,
                      action=action, fields=fields)
    target = httpx.URL(action)
    # The form leaves our site, so the page's form-action must name the gateway's origin.
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.format(
        form_targets=f"{target.scheme}://{target.netloc.decode()}"
    )
    return response
