"""Customer pages: the ticket link, the bill summary, the PDF and the payment button."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from litestar import Request, Response, get, head, post
from litestar.datastructures import CacheControlHeader
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect
from sqlalchemy import update

from bolletta.platform import clock
from bolletta.platform.db.models.platform import Tenant
from bolletta.platform.db.models.tenant import Event, Ticket
from bolletta.platform.errors import BollettaError
from bolletta.platform.payments.display import form_action_origins
from bolletta.platform.payments.service import PaymentNotAllowed, start_payment
from bolletta.platform.portal import access
from bolletta.platform.portal.summary import load_bill, summary_view
from bolletta.platform.tickets.tokens import find_ticket, is_usable
from bolletta.platform.web.context import active_tenant, rt
from bolletta.platform.web.security import CONTENT_SECURITY_POLICY
from bolletta.platform.web.templates import render
from bolletta.tenants.config import decode_config

NO_STORE = CacheControlHeader(no_store=True)
"""Customer pages carry personal data, so neither the browser nor a proxy may keep a copy."""


async def _tenant_or_404(slug: FromPath[str]) -> Tenant:
    tenant = await active_tenant(slug)
    if tenant is None:
        from litestar.exceptions import NotFoundException

        raise NotFoundException()
    return tenant


def invalid_link_page(request: Request[Any, Any, Any], tenant: Tenant) -> Response[str]:
    """Render the one page for unknown, expired and revoked links, with the same status and content."""
    return render(request, "portal/invalid.html", status_code=404, tenant=tenant,
                  config=decode_config(tenant.settings))


async def _record_link_opened(slug: FromPath[str], token: FromPath[str], method: str) -> Ticket | None:
    runtime = rt()
    keys = [runtime.ticket_key, *runtime.previous_ticket_keys]
    async with runtime.db.tenant_async_session(slug) as session:
        ticket = await find_ticket(session, keys, token)
        if ticket is None:
            return None
        session.add(Event(ticket_id=ticket.id, bill_id=ticket.bill_id, kind="link_opened",
                          at=clock.now(), channel=ticket.channel, data={"method": method}))
        await session.commit()
        return ticket


@get("/c/{slug:str}/t/{token:str}", name="portal:ticket", cache_control=NO_STORE)
async def open_ticket(request: Request[Any, Any, Any], slug: FromPath[str], token: FromPath[str]) -> Response[Any]:
    """Swap the token for the session cookie and redirect to the bill, so the token leaves the URL."""
    tenant = await _tenant_or_404(slug)
    ticket = await _record_link_opened(slug, token, "GET")
    if ticket is None or not is_usable(ticket):
        return invalid_link_page(request, tenant)
    async with rt().db.tenant_async_session(slug) as session:
        bill = await load_bill(session, ticket.bill_id)
    access.remember_ticket(request, slug, ticket.id)
    return Redirect(f"/c/{slug}/b/{bill.public_id}/sommario", status_code=303)


@head("/c/{slug:str}/t/{token:str}", name="portal:ticket-head", cache_control=NO_STORE)
async def probe_ticket(slug: FromPath[str], token: FromPath[str]) -> Response[None]:
    """Mail scanners send HEAD first: record ``link_opened`` only, never a view."""
    await _tenant_or_404(slug)
    await _record_link_opened(slug, token, "HEAD")
    return Response(content=None, status_code=200, headers={"Cache-Control": "no-store"})


@get("/c/{slug:str}/b/{public_id:str}/sommario", name="portal:summary", cache_control=NO_STORE)
async def bill_summary(request: Request[Any, Any, Any], slug: FromPath[str], public_id: FromPath[str]) -> Response[str]:
    """Render the "Sommario" page. Serving it is what makes the ticket viewed."""
    tenant = await _tenant_or_404(slug)
    config = decode_config(tenant.settings)
    async with rt().db.tenant_async_session(slug) as session:
        found = await access.bill_for_session(request, session, slug, public_id)
        if found is None:
            return invalid_link_page(request, tenant)
        bill, ticket = found
        now = clock.now()
        first_view = await session.execute(
            update(Ticket).where(Ticket.id == ticket.id, Ticket.first_viewed_at.is_(None)).values(first_viewed_at=now)
        )
        if first_view.rowcount == 1:  # type: ignore[attr-defined]
            session.add(Event(ticket_id=ticket.id, bill_id=bill.id, kind="viewed", at=now, channel=ticket.channel))
        session.add(Event(ticket_id=ticket.id, bill_id=bill.id, kind="section_viewed", at=now,
                          channel=ticket.channel, data={"section": "sommario"}))
        await session.commit()
        view = await summary_view(session, await load_bill(session, bill.id), config)
    access.touch(request)
    response = render(request, "portal/summary.html", tenant=tenant, config=config, view=view, slug=slug,
                      payment_return=request.query_params.get("payment"))
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.format(
        form_targets=" ".join(form_action_origins(config))
    ).strip()
    return response


@get("/c/{slug:str}/b/{public_id:str}/pdf", name="portal:pdf", cache_control=NO_STORE)
async def bill_pdf(request: Request[Any, Any, Any], slug: FromPath[str], public_id: FromPath[str]) -> Response[Any]:
    """Send the bill's own PDF from the flow and record ``pdf_downloaded``."""
    tenant = await _tenant_or_404(slug)
    async with rt().db.tenant_async_session(slug) as session:
        found = await access.bill_for_session(request, session, slug, public_id)
        if found is None:
            return invalid_link_page(request, tenant)
        bill, ticket = found
        if bill.pdf_key is None:
            return render(request, "portal/no_pdf.html", status_code=404, tenant=tenant,
                          config=decode_config(tenant.settings), bill=bill, slug=slug)
        session.add(Event(ticket_id=ticket.id, bill_id=bill.id, kind="pdf_downloaded", at=clock.now(),
                          channel=ticket.channel))
        await session.commit()
    content = await anyio.to_thread.run_sync(rt().storage.get, bill.pdf_key)
    filename = "bolletta-" + bill.document_number.replace("/", "_").replace(" ", "_") + ".pdf"
    return Response(content=content, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@post("/c/{slug:str}/b/{public_id:str}/paga", name="portal:pay", cache_control=NO_STORE)
async def pay_bill(
    request: Request[Any, Any, Any], slug: FromPath[str], public_id: FromPath[str],
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    """Start a payment on the chosen gateway; the amount is the stored one, never the form's."""
    tenant = await _tenant_or_404(slug)
    async with rt().db.tenant_async_session(slug) as session:
        found = await access.bill_for_session(request, session, slug, public_id)
    if found is None:
        return invalid_link_page(request, tenant)
    _bill, ticket = found
    gateway = data.get("gateway", "")
    try:
        url = await anyio.to_thread.run_sync(start_payment, rt(), slug, public_id, ticket.id, gateway)
    except PaymentNotAllowed as exc:
        return Redirect(f"/c/{slug}/b/{public_id}/sommario?payment={exc.reason}", status_code=303)
    except BollettaError:
        return Redirect(f"/c/{slug}/b/{public_id}/sommario?payment=refused", status_code=303)
    return Redirect(url, status_code=303)
