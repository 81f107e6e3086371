"""Rendering bill pages from their data, on a customer's request or ahead of it for new tickets.

When dispatch issues tickets it defers ``render_bill_pages`` (see ``actors``) for their bills, so the
summary page a customer opens first is already in the tenant's storage (:mod:`stored_pages`) and no
web process renders it while the customer waits.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from bolletta.platform import clock, tasks
from bolletta.platform.db.models.platform import Tenant
from bolletta.platform.db.models.tenant import Bill, Contact, Ticket
from bolletta.platform.portal import access, cache, page, stored_pages
from bolletta.platform.portal import language as languages
from bolletta.platform.portal.sections import TEMPLATES
from bolletta.platform.portal.summary import summary_view_sync
from bolletta.platform.runtime import Runtime
from bolletta.platform.speech.view import SpeechView, speech_view
from bolletta.platform.web.templates import environment
from bolletta.tenants.config import TenantConfig, decode_config
from bolletta.tenants.registry import get_tenant

logger = logging.getLogger(__name__)

PRERENDERED_SECTION = "sommario"
"""The section a ticket link leads to, the only one rendered ahead of a request."""


def render_html(slug: str, tenant: Tenant, config: TenantConfig, context: page.PageContext, section: str,
                payment_return: str | None, speech: SpeechView | None) -> str:
    """Render a section with the CSRF placeholder of :func:`cache.placeholder_input` in its forms."""
    utility = config.branding.display_name or tenant.name
    template = environment(context.language).get_template(TEMPLATES[section])
    return template.render(
        request=None, csrf_input=cache.placeholder_input(), tenant=tenant, config=config, section=section, slug=slug,
        payment_return=payment_return, speech=speech,
        **page.template_context(context, config, section, utility, slug),
    )


def first_page_language(config: TenantConfig, customer_language: str | None) -> str:
    """Return the language a customer's first page is in unless the browser requests another."""
    customer = languages.primary_language(customer_language)
    if config.portal.use_customer_language and customer in languages.offered(config.portal):
        return customer
    return languages.DEFAULT_LANGUAGE


def _contact_languages(session: Session, bill_ids: list[int]) -> dict[int, str]:
    """Return the language on file of a contact of each bill's tickets, the newest contact first."""
    rows = session.execute(
        select(Ticket.bill_id, Contact.language)
        .join(Bill, Bill.id == Ticket.bill_id)
        .join(Contact, (Contact.customer_code == Bill.customer_code) & (Contact.channel == Ticket.channel)
              & (Contact.address == Ticket.address))
        .where(Ticket.bill_id.in_(bill_ids), Contact.language.is_not(None))
        .order_by(Contact.id)
    )
    return {bill_id: language for bill_id, language in rows if language is not None}


def render_bill_pages(rt: Runtime, slug: str, bill_ids: list[int]) -> dict[str, int]:
    """Render and store the summary page of each bill in its customer's likely language; return the counts.

    A page already stored under the same key is skipped, so running this twice is harmless.
    """
    tenant = get_tenant(rt.db, slug)
    config = decode_config(tenant.settings)
    digest = cache.settings_digest(tenant.settings)
    counts = {"bills": 0, "rendered": 0, "stored_already": 0, "missing": 0}
    with rt.db.tenant_session(slug) as session:
        states = access.bill_states(session, bill_ids)
        contact_languages = _contact_languages(session, bill_ids)
        for bill_id in bill_ids:
            counts["bills"] += 1
            if bill_id not in states:
                counts["missing"] += 1
                continue
            public_id, bill_language, state = states[bill_id]
            language = first_page_language(config, bill_language or contact_languages.get(bill_id))
            key = stored_pages.PageKey(
                tenant=slug, public_id=public_id, section=PRERENDERED_SECTION, language=language, payment_return=None,
                settings_digest=digest, payment_state=state, day=clock.now().astimezone(clock.ROME).date(),
            )
            if rt.storage.exists(f"{slug}/{key.storage_key()}"):
                counts["stored_already"] += 1
                continue
            html = _render_summary(rt, session, slug, tenant, config, bill_id, language)
            stored_pages.save(rt.storage, key, html)
            counts["rendered"] += 1
        session.commit()
    logger.info("tenant %s: bill pages rendered ahead: %s", slug, counts)
    return counts


def _render_summary(rt: Runtime, session: Session, slug: str, tenant: Tenant, config: TenantConfig, bill_id: int,
                    language: str) -> str:
    """Render the summary and queue its audio when a voice speaks the language and it is not stored yet."""
    context = page.build_context(summary_view_sync(session, bill_id, config), tenant.name, config, language)
    utility = config.branding.display_name or tenant.name
    speech = speech_view(context, utility, config, rt.settings.data_path)
    queue_audio(rt, session, slug, context.page.bill.public_id, speech)
    return render_html(slug, tenant, config, context, PRERENDERED_SECTION, None, speech)


def queue_audio(rt: Runtime, session: Session, slug: str, public_id: str, speech: SpeechView) -> None:
    """Defer the summary's synthesis in ``session`` unless its audio is stored or no voice speaks it."""
    key = speech.audio_key(public_id)
    if key is None or speech.voice is None or rt.storage.exists(f"{slug}/{key}"):
        return
    tasks.defer(session, "synthesize_summary", slug, key, speech.voice.voice_id, speech.text)


def defer_rendering(session: Session, slug: str, bill_ids: list[int]) -> None:
    """Defer ``render_bill_pages`` for ``bill_ids`` in the session's transaction."""
    if bill_ids:
        tasks.defer(session, "render_bill_pages", slug, bill_ids)
