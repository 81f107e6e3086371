"""The sandbox gateway's hosted payment page (the demo's and the tests' stand-in for a bank)."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bolletta.platform import tasks
from bolletta.platform.db.models.tenant import Bill, Payment
from bolletta.platform.portal.page import payment_language
from bolletta.platform.runtime import Runtime
from bolletta.platform.tickets.links import customer_base_url
from bolletta.platform.web.context import active_tenant, rt
from bolletta.platform.web.templates import render
from bolletta.tenants.config import decode_config

OUTCOMES = {"pay": "completed", "fail": "failed", "cancel": "cancelled"}


async def _find_pending(session: AsyncSession, order_id: str) -> tuple[Payment, Bill]:
    row = (
        await session.execute(
            select(Payment, Bill)
            .join(Bill, Bill.id == Payment.bill_id)
            .where(Payment.order_id == order_id, Payment.gateway == "sandbox", Payment.status == "pending")
        )
    ).first()
    if row is None:
        raise NotFoundException()
    return row.Payment, row.Bill


async def _pending_payment(slug: FromPath[str], order_id: FromPath[str]) -> tuple[Payment, Bill]:
    async with rt().db.tenant_async_session(slug) as session:
        return await _find_pending(session, order_id)


@get("/c/{slug:str}/sandbox/{order_id:str}", name="sandbox:page")
async def sandbox_page(request: Request[Any, Any, Any], slug: FromPath[str], order_id: FromPath[str]) -> Response[str]:
    """Show the amount with "Pay", "Decline" and "Cancel", as a bank's hosted page would, in the language
    of the customer's bill pages."""
    tenant = await active_tenant(slug)
    if tenant is None:
        raise NotFoundException()
    config = decode_config(tenant.settings)
    async with rt().db.tenant_async_session(slug) as session:
        payment, bill = await _find_pending(session, order_id)
        language = await payment_language(request, session, config, payment, bill)
    return render(request, "portal/sandbox.html", language=language, tenant=tenant, config=config,
                  payment=payment, bill=bill, slug=slug)


def _defer_notification(runtime: Runtime, slug: str, order_id: str, status: str) -> None:
    with runtime.db.tenant_session(slug) as session:
        tasks.defer(session, "post_sandbox_notification", slug, order_id, status)
        session.commit()


@post("/c/{slug:str}/sandbox/{order_id:str}", name="sandbox:submit")
async def sandbox_submit(
    slug: FromPath[str], order_id: FromPath[str],
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    """Queue the signed notification for the chosen outcome and send the customer back."""
    tenant = await active_tenant(slug)
    if tenant is None:
        raise NotFoundException()
    _payment, bill = await _pending_payment(slug, order_id)
    status = OUTCOMES.get(data.get("outcome", ""), "cancelled")
    await anyio.to_thread.run_sync(_defer_notification, rt(), slug, order_id, status)
    base = customer_base_url(rt().settings, slug, decode_config(tenant.settings))
    return Redirect(f"{base}/b/{bill.public_id}/sommario?payment=returned", status_code=303)
