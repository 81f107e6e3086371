"""Customer pages: the ticket link, the bill summary, the PDF and the payment button."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Annotated, Any

import anyio
import typst
from litestar import Request, Response, get, head, post
from litestar.datastructures import CacheControlHeader
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect

from bolletta.platform import clock, tasks
from bolletta.platform.db.models.platform import Tenant
from bolletta.platform.db.models.tenant import Event, Ticket
from bolletta.platform.errors import BollettaError
from bolletta.platform.payments.service import PaymentNotAllowed, start_payment
from bolletta.platform.portal import access, access_cache, cache, new_link, page, prerender, stored_pages, view_events
from bolletta.platform.portal import language as languages
from bolletta.platform.portal.calendar import google_link, ics, outlook_link
from bolletta.platform.portal.pdf import rendered_pdf
from bolletta.platform.portal.ranges import ranged_response
from bolletta.platform.portal.summary import load_bill
from bolletta.platform.speech.view import SpeechView, speech_view
from bolletta.platform.tickets.tokens import find_ticket, is_usable
from bolletta.platform.web.context import active_tenant, rt
from bolletta.platform.web.templates import csrf_input, render
from bolletta.tenants.config import PortalSettings, TenantConfig, decode_config

logger = logging.getLogger(__name__)

AUDIO_WAIT_SECONDS = 20.0
"""How long an audio request waits for its synthesis before it returns 503."""
_queued_audio: dict[str, float] = {}
"""Audio keys this process queued, with when: one synthesis per key at a time, not one per request."""

NO_STORE = CacheControlHeader(no_store=True)
"""Customer pages carry personal data, so neither the browser nor a proxy may keep a copy."""


async def _cached_tenant_or_404(slug: str) -> cache.TenantView:
    """Return the active tenant with its decoded settings from :data:`cache.TENANTS` (at most a second
    old, dropped when saved here), else raise 404."""
    found = cache.TENANTS.get(slug)
    if found is not None:
        return found  # type: ignore[no-any-return]
    # Requests that miss together share one read, so an expired entry costs one query, not one per request.
    key = (asyncio.get_running_loop(), slug)
    reading = _tenant_reads.get(key)
    if reading is None:
        reading = _tenant_reads[key] = key[0].create_task(_read_tenant_view(key))
    return await asyncio.shield(reading)


_tenant_reads: dict[tuple[asyncio.AbstractEventLoop, str], asyncio.Task[cache.TenantView]] = {}
"""Tenant reads in progress by event loop and slug, for :func:`_cached_tenant_or_404`."""


async def _read_tenant_view(key: tuple[asyncio.AbstractEventLoop, str]) -> cache.TenantView:
    try:
        found = cache.tenant_view(await _tenant_or_404(key[1]))
        cache.TENANTS.put(key[1], found)
        return found
    finally:
        _tenant_reads.pop(key, None)


class TenantUnavailable(NotFoundException):
    """Raised for a link of a tenant that does not exist, is suspended or was off-boarded."""


async def _tenant_or_404(slug: FromPath[str]) -> Tenant:
    tenant = await active_tenant(slug)
    if tenant is None:
        raise TenantUnavailable()
    return tenant


def unavailable_page(request: Request[Any, Any, Any], _exc: TenantUnavailable) -> Response[str]:
    """Render the page for links whose utility is unknown or suspended: no branding, nothing about anyone.

    Its status is the one of an unknown link of an active utility, so the two cannot be told apart
    by the status alone.
    """
    language = languages.choose(request, PortalSettings(languages=list(languages.PAGE_LANGUAGES)), None)
    return render(request, "portal/unavailable.html", status_code=404, language=language)


def invalid_link_page(request: Request[Any, Any, Any], tenant: Tenant, *, status_code: int = 404,
                      contact_error: bool = False) -> Response[str]:
    """Render the one page for unknown, expired and revoked links, with the same status and content.

    The page is in the browser's language among those the tenant offers: nothing about the
    customer may be read before the link is known to be valid.
    """
    config = decode_config(tenant.settings)
    language = languages.choose(request, config.portal, None)
    return render(request, "portal/invalid.html", status_code=status_code, language=language, tenant=tenant,
                  config=config, slug=tenant.slug, contact_error=contact_error)


def _queue_new_link(slug: str, kind: str, address: str) -> None:
    with rt().db.tenant_session(slug) as session:
        new_link.queue_request(session, slug, kind, address)
        session.commit()


@post("/c/{slug:str}/nuovo-link", name="portal:new-link", cache_control=NO_STORE)
async def request_new_link(
    request: Request[Any, Any, Any], slug: FromPath[str],
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    """Queue a new link for a contact on file. The response is the same whether or not the contact exists."""
    tenant = await _tenant_or_404(slug)
    contact = new_link.normalize_contact(data.get("contact", "")[:320])
    if contact is None:
        return invalid_link_page(request, tenant, status_code=400, contact_error=True)
    await anyio.to_thread.run_sync(_queue_new_link, slug, *contact)
    config = decode_config(tenant.settings)
    return render(request, "portal/new_link.html", language=languages.choose(request, config.portal, None),
                  tenant=tenant, config=config, slug=slug)


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


async def _section_page(
    request: Request[Any, Any, Any], slug: str, public_id: str, section: str
) -> Response[Any]:
    """Render one section of the bill. Serving a bill page is what makes the ticket viewed.

    The session's ticket and the bill's payment state come from :func:`access.bill_access` (kept a
    few seconds in memory, read fresh on the return from a payment), and the page from
    :data:`cache.PAGES`, else from the tenant's storage (:mod:`stored_pages`), when the bill, its
    payments, the settings and the language are unchanged since it was rendered. The view is queued
    for :mod:`view_events` to record.
    """
    tenant_view = await _cached_tenant_or_404(slug)
    tenant, config = tenant_view.tenant, tenant_view.config
    payment_return = request.query_params.get("payment")
    found = await access.bill_access(request, rt().db, slug, public_id, fresh=payment_return is not None)
    if found is None:
        return invalid_link_page(request, tenant)
    customer = None if languages.SESSION_KEY in (request.session or {}) else found.customer_language
    language, switched = page.pick_language(request, config, customer)
    now = clock.now()
    key = stored_pages.PageKey(
        tenant=slug, public_id=public_id, section=section, language=language, payment_return=payment_return,
        settings_digest=tenant_view.digest, payment_state=found.payment_state, day=now.astimezone(clock.ROME).date(),
    )
    html = cache.PAGES.get(key)
    if html is None:
        html = await _stored_or_rendered(key, tenant, config, found.bill_id)
        if html is None:
            return Redirect(f"/c/{slug}/b/{public_id}/sommario", status_code=303)
        cache.PAGES.put(key, html)
    if not found.first_viewed:
        access_cache.mark_viewed(slug, public_id, tuple(access.session_ticket_ids(request, slug)), found)
    view_events.record(rt(), view_events.PageView(
        tenant=slug, ticket_id=found.ticket_id, bill_id=found.bill_id, channel=found.channel, at=now,
        section=section, language=language, switched=switched, first_view=not found.first_viewed,
    ))
    access.touch(request)
    response = Response(content=cache.fill_csrf(html, csrf_input(request)), media_type="text/html")
    # The pay form posts to us, and we redirect to the gateway: browsers apply form-action to that
    # redirect too, so the enabled gateways' page origins are allowed.
    response.headers["Content-Security-Policy"] = tenant_view.content_security_policy
    return response


async def _stored_or_rendered(key: stored_pages.PageKey, tenant: Tenant, config: TenantConfig,
                              bill_id: int) -> str | None:
    """Return the page of ``key`` from the tenant's storage, else render and store it; ``None`` when the
    bill has no such section.

    Pages after a payment attempt (``?payment=``) are rendered but not stored: the parameter comes
    from the browser, and each value would otherwise add a file.
    """
    storable = key.payment_return is None
    html = await stored_pages.load_async(rt().storage, key) if storable else None
    if html is not None:
        return html
    async with rt().db.tenant_async_session(key.tenant) as session:
        context = await page.load_page(session, bill_id, tenant, config, key.language)
    if key.section not in context.page.sections:
        return None
    html = await _render_section(key.tenant, tenant, config, context, key.section, key.payment_return)
    if storable:
        await stored_pages.save_async(rt().storage, key, html)
    return html


async def _render_section(slug: str, tenant: Tenant, config: TenantConfig, context: page.PageContext, section: str,
                          payment_return: str | None) -> str:
    speech = None
    if section == "sommario":
        speech = speech_view(context, config.branding.display_name or tenant.name, config, rt().settings.data_path)
        await _prepare_audio(slug, context.page.bill.public_id, speech)
    return prerender.render_html(slug, tenant, config, context, section, payment_return, speech)


async def preview_section(tenant: Tenant, bill_id: int, section: str, language: str = "it") -> str | None:
    """Render a section of a bill as its customer would see it, for staff; ``None`` when it has no data.

    A preview reads no ticket and records no event, so it never counts as a customer's view.
    """
    config = decode_config(tenant.settings)
    async with rt().db.tenant_async_session(tenant.slug) as session:
        context = await page.load_page(session, bill_id, tenant, config, language)
    if section not in context.page.sections:
        return None
    return await _render_section(tenant.slug, tenant, config, context, section, None)


async def _prepare_audio(slug: str, public_id: str, speech: SpeechView) -> str | None:
    """Queue the summary's audio unless it is cached; return its full storage key, or ``None`` without a voice."""
    key = speech.audio_key(public_id)
    if key is None or speech.voice is None:
        return None
    full_key = f"{slug}/{key}"
    if not rt().storage.exists(full_key) and _queued_audio.get(full_key, 0.0) < time.monotonic() - AUDIO_WAIT_SECONDS:
        _queued_audio[full_key] = time.monotonic()
        await anyio.to_thread.run_sync(_queue_audio, slug, key, speech.voice.voice_id, speech.text)
    return full_key


def _queue_audio(slug: str, key: str, voice_id: str, text: str) -> None:
    with rt().db.tenant_session(slug) as session:
        tasks.defer(session, "synthesize_summary", slug, key, voice_id, text)
        session.commit()


@get("/c/{slug:str}/b/{public_id:str}/sintesi-vocale.mp3", name="portal:speech", cache_control=NO_STORE)
async def bill_speech(request: Request[Any, Any, Any], slug: FromPath[str], public_id: FromPath[str]) -> Response[Any]:
    """The summary read aloud by the tenant's voice, with byte ranges; records ``speech_played``.

    Audio not cached yet is queued and awaited for up to 20 seconds, then the response is 503 with
    ``Retry-After``.
    """
    tenant = await _tenant_or_404(slug)
    config = decode_config(tenant.settings)
    async with rt().db.tenant_async_session(slug) as session:
        found = await access.bill_for_session(request, session, slug, public_id)
        if found is None:
            return invalid_link_page(request, tenant)
        bill, ticket = found
        language, _switched = page.pick_language(
            request, config, await page.customer_language(session, ticket, bill.language))
        context = await page.load_page(session, bill.id, tenant, config, language)
        speech = speech_view(context, config.branding.display_name or tenant.name, config, rt().settings.data_path)
        full_key = await _prepare_audio(slug, public_id, speech)
        if full_key is None:
            return Response(content=b"", status_code=404, media_type="audio/mpeg")
        range_header = request.headers.get("range")
        if range_header is None or range_header.replace(" ", "").startswith("bytes=0-"):
            page.record_event(session, ticket, "speech_played", engine="server", language=language)
            await session.commit()
    deadline = time.monotonic() + AUDIO_WAIT_SECONDS
    while not rt().storage.exists(full_key) and time.monotonic() < deadline:
        await anyio.sleep(0.2)
    if not rt().storage.exists(full_key):
        return Response(content=b"", status_code=503, media_type="audio/mpeg", headers={"Retry-After": "5"})
    content = await anyio.to_thread.run_sync(rt().storage.get, full_key)
    return ranged_response(content, range_header, "audio/mpeg")


@post("/c/{slug:str}/b/{public_id:str}/sintesi-vocale", name="portal:speech-browser", cache_control=NO_STORE)
async def bill_speech_browser(
    request: Request[Any, Any, Any], slug: FromPath[str], public_id: FromPath[str]
) -> Response[Any]:
    """Record ``speech_played`` when the browser's own speech synthesis read the summary."""
    tenant = await _tenant_or_404(slug)
    async with rt().db.tenant_async_session(slug) as session:
        found = await access.bill_for_session(request, session, slug, public_id)
        if found is None:
            return invalid_link_page(request, tenant)
        _bill, ticket = found
        page.record_event(session, ticket, "speech_played", engine="browser")
        await session.commit()
    return Response(content=None, status_code=204)


@get("/c/{slug:str}/b/{public_id:str}/sommario", name="portal:summary", cache_control=NO_STORE)
async def bill_summary(request: Request[Any, Any, Any], slug: FromPath[str], public_id: FromPath[str]) -> Response[Any]:
    """Render the "Sommario" section: how much, by when, how to pay."""
    return await _section_page(request, slug, public_id, "sommario")


@get("/c/{slug:str}/b/{public_id:str}/importi", name="portal:amounts", cache_control=NO_STORE)
async def bill_amounts(request: Request[Any, Any, Any], slug: FromPath[str], public_id: FromPath[str]) -> Response[Any]:
    """Render the "Importi" section: the cost breakdown as a table and a chart."""
    return await _section_page(request, slug, public_id, "importi")


@get("/c/{slug:str}/b/{public_id:str}/consumi", name="portal:consumption", cache_control=NO_STORE)
async def bill_consumption(
    request: Request[Any, Any, Any], slug: FromPath[str], public_id: FromPath[str]
) -> Response[Any]:
    """Render the "Consumi" section: consumption, readings, time bands and history."""
    return await _section_page(request, slug, public_id, "consumi")


@get("/c/{slug:str}/b/{public_id:str}/dati", name="portal:data", cache_control=NO_STORE)
async def bill_data(request: Request[Any, Any, Any], slug: FromPath[str], public_id: FromPath[str]) -> Response[Any]:
    """Render the "I tuoi dati" section: customer, supply and contract data."""
    return await _section_page(request, slug, public_id, "dati")


@get("/c/{slug:str}/b/{public_id:str}/pdf", name="portal:pdf", cache_control=NO_STORE)
async def bill_pdf(request: Request[Any, Any, Any], slug: FromPath[str], public_id: FromPath[str]) -> Response[Any]:
    """Send the bill's own PDF from the flow, else one rendered from its data; record ``pdf_downloaded``."""
    tenant = await _tenant_or_404(slug)
    config = decode_config(tenant.settings)
    async with rt().db.tenant_async_session(slug) as session:
        found = await access.bill_for_session(request, session, slug, public_id)
        if found is None:
            return invalid_link_page(request, tenant)
        bill, ticket = found
        if bill.pdf_key is None:
            bill = await load_bill(session, bill.id)
        page.record_event(session, ticket, "pdf_downloaded", rendered=bill.pdf_key is None)
        await session.commit()
    if bill.pdf_key is not None:
        content = await anyio.to_thread.run_sync(rt().storage.get, bill.pdf_key)
    else:
        try:
            content = await anyio.to_thread.run_sync(
                rendered_pdf, rt().storage, slug, bill, config.branding.display_name or tenant.name, config)
        except typst.TypstError:
            logger.exception("tenant %s: rendering the PDF of bill %d failed", slug, bill.id)
            return render(request, "portal/no_pdf.html", status_code=503, tenant=tenant, config=config, bill=bill,
                          slug=slug)
    filename = "bolletta-" + bill.document_number.replace("/", "_").replace(" ", "_") + ".pdf"
    return Response(content=content, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@get("/c/{slug:str}/b/{public_id:str}/scadenza.ics", name="portal:calendar", cache_control=NO_STORE)
async def bill_calendar(
    request: Request[Any, Any, Any], slug: FromPath[str], public_id: FromPath[str]
) -> Response[Any]:
    """Send the due date as an ``.ics`` event and record ``calendar_added``."""
    tenant = await _tenant_or_404(slug)
    config = decode_config(tenant.settings)
    async with rt().db.tenant_async_session(slug) as session:
        found = await access.bill_for_session(request, session, slug, public_id)
        if found is None:
            return invalid_link_page(request, tenant)
        bill, ticket = found
        language, _switched = page.pick_language(
            request, config, await page.customer_language(session, ticket, bill.language))
        context = await page.load_page(session, bill.id, tenant, config, language)
        if context.event is None:
            return Redirect(f"/c/{slug}/b/{public_id}/sommario", status_code=303)
        page.record_event(session, ticket, "calendar_added", target="ics")
        await session.commit()
    filename = "scadenza-" + bill.document_number.replace("/", "_").replace(" ", "_") + ".ics"
    return Response(content=ics(context.event), media_type="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@get("/c/{slug:str}/b/{public_id:str}/scadenza/{target:str}", name="portal:calendar-link", cache_control=NO_STORE)
async def bill_calendar_link(
    request: Request[Any, Any, Any], slug: FromPath[str], public_id: FromPath[str], target: FromPath[str]
) -> Response[Any]:
    """Record ``calendar_added`` and send the browser to Google Calendar or Outlook with the event filled in."""
    tenant = await _tenant_or_404(slug)
    config = decode_config(tenant.settings)
    links = {"google": google_link, "outlook": outlook_link}
    async with rt().db.tenant_async_session(slug) as session:
        found = await access.bill_for_session(request, session, slug, public_id)
        if found is None:
            return invalid_link_page(request, tenant)
        bill, ticket = found
        language, _switched = page.pick_language(
            request, config, await page.customer_language(session, ticket, bill.language))
        context = await page.load_page(session, bill.id, tenant, config, language)
        if context.event is None or target not in links:
            return Redirect(f"/c/{slug}/b/{public_id}/sommario", status_code=303)
        page.record_event(session, ticket, "calendar_added", target=target)
        await session.commit()
    return Redirect(links[target](context.event), status_code=303)


@post("/c/{slug:str}/b/{public_id:str}/paga", name="portal:pay", cache_control=NO_STORE)
async def pay_bill(
    request: Request[Any, Any, Any], slug: FromPath[str], public_id: FromPath[str],
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    """Start a payment on the chosen gateway in the bill page's language. The amount is the stored one,
    never the form's."""
    tenant = await _tenant_or_404(slug)
    async with rt().db.tenant_async_session(slug) as session:
        found = await access.bill_for_session(request, session, slug, public_id)
        if found is None:
            return invalid_link_page(request, tenant)
        bill, ticket = found
        customer = await page.customer_language(session, ticket, bill.language)
    language, _switched = page.pick_language(request, decode_config(tenant.settings), customer)
    gateway = data.get("gateway", "")
    try:
        url = await anyio.to_thread.run_sync(start_payment, rt(), slug, public_id, ticket.id, gateway, language)
    except PaymentNotAllowed as exc:
        return Redirect(f"/c/{slug}/b/{public_id}/sommario?payment={exc.reason}", status_code=303)
    except BollettaError:
        return Redirect(f"/c/{slug}/b/{public_id}/sommario?payment=refused", status_code=303)
    return Redirect(url, status_code=303)
