"""Loading one bill page: the bill's sections, the page language, and the customer events it records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bolletta.platform import clock
from bolletta.platform.db.models.platform import Tenant
from bolletta.platform.db.models.tenant import Bill, Contact, Event, Payment, Ticket
from bolletta.platform.i18n import formatting
from bolletta.platform.i18n.catalog import gettext
from bolletta.platform.portal import charts
from bolletta.platform.portal import language as languages
from bolletta.platform.portal.calendar import DueDateEvent, due_date_event
from bolletta.platform.portal.pagopa import PagoPANotice, notice_for
from bolletta.platform.portal.sections import (
    BAND_LABELS,
    READING_TYPE_LABELS,
    SECTION_TITLES,
    BillPage,
    build_page,
)
from bolletta.platform.portal.summary import SummaryView, summary_view
from bolletta.tenants.config import TenantConfig
from bolletta.themes.sandbox import render_block


@dataclass
class PageContext:
    """A bill page's data and the language it is shown in."""

    page: BillPage
    language: str
    languages: list[str]
    notice: PagoPANotice | None
    event: DueDateEvent | None
    """The due-date reminder; ``None`` when nothing is to be paid by a date."""


async def customer_language(session: AsyncSession, ticket: Ticket, bill_language: str | None) -> str | None:
    """Return the bill's language from the flow, else the language of the ticket's contact on file."""
    if bill_language:
        return bill_language
    return await session.scalar(
        select(Contact.language).where(Contact.channel == ticket.channel, Contact.address == ticket.address,
                                       Contact.language.is_not(None)).order_by(Contact.id.desc()).limit(1)
    )


def pick_language(request: Request[Any, Any, Any], config: TenantConfig, customer: str | None) -> tuple[str, bool]:
    """Return the page language, and whether the customer switched to it with ``?lang=`` on this request."""
    offered = languages.offered(config.portal)
    asked = request.query_params.get("lang")
    current = languages.choose(request, config.portal, customer)
    if asked in offered:
        languages.remember(request, asked)
        return asked, asked != current
    return current, False


async def payment_language(request: Request[Any, Any, Any], session: AsyncSession, config: TenantConfig,
                           payment: Payment, bill: Bill) -> str:
    """Return the language of a payment attempt's own page, picked as for the bill's pages.

    The sandbox gateway's page URL carries the bill page's language as ``?lang=``, because that page
    may be served from another host than the bill pages, without their session cookie.
    """
    customer = bill.language
    if not customer and payment.ticket_id is not None:
        ticket = await session.get(Ticket, payment.ticket_id)
        customer = await customer_language(session, ticket, None) if ticket is not None else None
    language, _switched = pick_language(request, config, customer)
    return language


async def record_view(session: AsyncSession, ticket: Ticket, section: str, language: str, switched: bool) -> None:
    """Record ``viewed`` (first page only), ``section_viewed`` and ``language_changed``; commits."""
    now = clock.now()
    first_view = None
    if ticket.first_viewed_at is None:
        first_view = await session.execute(
            update(Ticket).where(Ticket.id == ticket.id, Ticket.first_viewed_at.is_(None)).values(first_viewed_at=now)
        )
    if first_view is not None and first_view.rowcount == 1:  # type: ignore[attr-defined]
        session.add(Event(ticket_id=ticket.id, bill_id=ticket.bill_id, kind="viewed", at=now, channel=ticket.channel))
    session.add(Event(ticket_id=ticket.id, bill_id=ticket.bill_id, kind="section_viewed", at=now,
                      channel=ticket.channel, data={"section": section}))
    if switched:
        session.add(Event(ticket_id=ticket.id, bill_id=ticket.bill_id, kind="language_changed", at=now,
                          channel=ticket.channel, data={"language": language}))
    await session.commit()


def record_event(session: AsyncSession, ticket: Ticket, kind: str, **data: Any) -> None:
    """Add one customer event of ``kind`` on ``ticket`` to the session (the caller commits)."""
    session.add(Event(ticket_id=ticket.id, bill_id=ticket.bill_id, kind=kind, at=clock.now(), channel=ticket.channel,
                      data=data))


async def load_page(session: AsyncSession, bill_id: int, tenant: Tenant, config: TenantConfig,
                    language: str) -> PageContext:
    """Load the bill and its payment state, and build every section in ``language``."""
    return build_context(await summary_view(session, bill_id, config), tenant.name, config, language)


def build_context(summary: SummaryView, tenant_name: str, config: TenantConfig, language: str) -> PageContext:
    """Build every section of the summary's bill, its pagoPA notice and its due-date event."""
    bill = summary.bill
    settings = config.portal
    page = build_page(summary, settings.glossary.get(language, {}), settings.section_order,
                      settings.hidden_sections)
    to_pay = summary.state in ("payable", "verifying", "not_payable")
    notice = notice_for(bill, summary.next_instalment, config.vat_number) if to_pay else None
    event = None
    if to_pay and summary.due_date is not None:
        event = due_date_event(
            public_id=bill.public_id, utility=config.branding.display_name or tenant_name, service=bill.service,
            number=bill.document_number, due=summary.due_date, amount=summary.amount_due, currency=bill.currency,
            language=language,
        )
    return PageContext(page=page, language=language, languages=languages.offered(settings), notice=notice,
                       event=event)


def block_data(context: PageContext, utility: str) -> dict[str, str | int | float | None]:
    """Collect the plain values a tenant's content block may use, formatted for the page language."""
    bill, summary, language = context.page.bill, context.page.summary, context.language
    return {
        "utility": utility, "language": language, "service": bill.service,
        "document_number": bill.document_number, "customer_name": bill.customer_name,
        "amount_due": formatting.money(summary.amount_due, bill.currency, language),
        "due_date": formatting.day(summary.due_date, language), "state": summary.state,
    }


def template_context(context: PageContext, config: TenantConfig | None = None, section: str = "",
                     utility: str = "", tenant: str = "") -> dict[str, Any]:
    """Build what the section templates need besides the page: labels, charts, formatters, the tenant block."""
    bill_page, language = context.page, context.language
    block_source = config.portal.blocks.get(section, "") if config is not None else ""
    currency = bill_page.bill.currency
    use = bill_page.consumption
    return {
        "context": context, "bill_page": bill_page, "view": bill_page.summary,
        "titles": SECTION_TITLES, "language_names": languages.LANGUAGE_NAMES,
        "reading_types": READING_TYPE_LABELS, "band_labels": BAND_LABELS,
        "cost_chart": charts.rows([(gettext(language, item.label), item.amount) for item in bill_page.costs.items]),
        "band_chart": charts.rows(use.bands),
        "history_chart": charts.columns(use.history),
        "money_format": lambda value: formatting.money(value, currency, language),
        "quantity_format": lambda value: formatting.quantity(value, language),
        "tenant_block": render_block(block_source, block_data(context, utility), tenant) if block_source else None,
    }
