"""A PDF of the bill from its stored data, for bills whose flow carried none; rendered once and cached.

Typst (the ``typst`` wheel bundles the compiler and its fonts, so no system library is needed)
lays out ``bolletta/themes/base/pdf/bill.typ``. The values go in as one JSON input, already
formatted by Babel, so free text from the flow is never read as Typst markup. The PDF is in
Italian, the language of the bill as a document, and is stored under ``<tenant>/rendered/``.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

import typst

from bolletta.platform.db.models.tenant import Bill
from bolletta.platform.i18n import formatting
from bolletta.platform.i18n.catalog import gettext
from bolletta.platform.portal.sections import CATEGORY_LABELS, build_consumption, build_costs
from bolletta.platform.storage import Storage
from bolletta.tenants.config import TenantConfig

logger = logging.getLogger(__name__)

TEMPLATE = Path(__file__).resolve().parents[2] / "themes" / "base" / "pdf" / "bill.typ"
PDF_LANGUAGE = "it"
RENDER_VERSION = 1
"""Part of the cache key: raise it when the layout changes, so cached PDFs are rendered again."""
_compile_lock = threading.Lock()


def cache_key(bill: Bill) -> str:
    """Storage key, below the tenant's prefix, of the bill's rendered PDF."""
    return f"rendered/v{RENDER_VERSION}/{bill.public_id}.pdf"


def rendered_pdf(storage: Storage, tenant: str, bill: Bill, utility: str, config: TenantConfig) -> bytes:
    """The bill's rendered PDF, from the cache or rendered now and cached."""
    key = f"{tenant}/{cache_key(bill)}"
    if storage.exists(key):
        return storage.get(key)
    content = render_pdf(bill, utility, config)
    storage.put(tenant, cache_key(bill), content)
    logger.info("tenant %s: rendered the PDF of bill %d (%d bytes)", tenant, bill.id, len(content))
    return content


def render_pdf(bill: Bill, utility: str, config: TenantConfig) -> bytes:
    """Render the bill's PDF with Typst."""
    data = json.dumps(pdf_data(bill, utility, config), ensure_ascii=False)
    with _compile_lock:  # one compile at a time keeps memory flat under a burst of first downloads
        content = typst.compile(TEMPLATE, root=TEMPLATE.parent, sys_inputs={"bill": data})
    assert isinstance(content, bytes)
    return content


def pdf_data(bill: Bill, utility: str, config: TenantConfig) -> dict[str, Any]:
    """Every value the Typst layout shows, as formatted text."""
    def _(message: str) -> str:
        return gettext(PDF_LANGUAGE, message)

    def money(value: Any) -> str:
        return formatting.money(value, bill.currency, PDF_LANGUAGE)

    costs = build_costs(bill, {})
    use = build_consumption(bill)
    kind = _("Credit note") if bill.is_credit_note else _("Bill")
    title = f"{kind} n. {bill.document_number} {gettext(PDF_LANGUAGE, 'of')} {formatting.day(bill.issue_date)}"
    supply = [(_("Service"), _(bill.service.capitalize())), ("POD", bill.pod), ("PDR", bill.pdr),
              (_("Supply address"), bill.supply_address)]
    if bill.period_from and bill.period_to:
        supply.append((_("Billing period"), f"{formatting.day(bill.period_from)} – {formatting.day(bill.period_to)}"))
    consumption = [(_("Billed consumption"), use.billed), (_("Actual consumption"), use.actual),
                   (_("Estimated consumption"), use.estimated), (_("Annual consumption"), use.annual)]
    notice = next((item.notice_code for item in bill.instalments if item.notice_code), None)
    return {
        "language": PDF_LANGUAGE, "utility": utility, "title": title,
        "brand_color": config.branding.primary_color, "on_brand_color": config.branding.text_on_primary,
        "customer": [line for line in (bill.customer_name, bill.customer_address, bill.fiscal_code) if line],
        "amount_due": money(bill.amount_due),
        "due_date": formatting.day(bill.due_date),
        "status": _("This is a credit note: no payment is due.") if bill.is_credit_note else "",
        "supply": [[label, str(value)] for label, value in supply if value],
        "costs": [{"label": _(CATEGORY_LABELS.get(item.category, "Other items")), "amount": money(item.amount),
                   "share": formatting.percent(item.share)} for item in costs.items],
        "lines": [{"label": line.label, "amount": money(line.amount)} for item in costs.items for line in item.lines],
        "total": money(costs.total),
        "consumption": [[label, f"{formatting.quantity(value)} {use.unit or ''}".strip()]
                        for label, value in consumption if value is not None],
        "notice": " ".join(notice[start:start + 4] for start in range(0, len(notice), 4)) if notice else None,
        "labels": {
            "customer": _("Customer"), "amount_due": _("Amount due"), "due_by": _("Due by"), "supply": _("Supply"),
            "costs": _("Cost breakdown"), "item": _("Item"), "amount": _("Amount"), "share": _("Share of the total"),
            "total": _("Total"), "details": _("Details"), "consumption": _("Consumption"),
            "notice": _("pagoPA payment notice"), "notice_code": _("Notice code"), "page": _("Page"),
        },
    }
