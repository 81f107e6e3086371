"""The pagoPA payment notice of a bill: the code in groups of four and its QR code.

The QR code carries the payload ``PAGOPA|002|<notice code>|<creditor fiscal code>|<amount in
cents>`` that pagoPA's printed notices use, so a banking app can scan it from the screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import segno
from markupsafe import Markup

from bolletta.platform.db.models.tenant import Bill, Instalment

QR_SCALE = 4
"""SVG user units per QR module."""


@dataclass(frozen=True)
class PagoPANotice:
    """What the page shows of a pagoPA notice."""

    notice_code: str
    creditor_fiscal_code: str
    amount: Decimal

    @property
    def payload(self) -> str:
        """The QR code's text."""
        cents = int((self.amount * 100).to_integral_value())
        return f"PAGOPA|002|{self.notice_code}|{self.creditor_fiscal_code}|{cents}"

    @property
    def grouped_code(self) -> str:
        """The notice code in groups of four digits, as printed notices show it."""
        return " ".join(self.notice_code[start:start + 4] for start in range(0, len(self.notice_code), 4))

    def qr_svg(self, title: str) -> Markup:
        """The QR code as inline SVG, titled for screen readers."""
        return _qr_svg(self.payload, title)


@lru_cache(maxsize=1024)
def _qr_svg(payload: str, title: str) -> Markup:
    # Encoding picks the best of eight masks, a few milliseconds each time: a bill's code is drawn once.
    svg = segno.make(payload, error="m").svg_inline(scale=QR_SCALE, title=title, dark="#000", light="#fff")
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S704 - segno escapes the title


def notice_for(bill: Bill, instalment: Instalment | None, seller_vat: str) -> PagoPANotice | None:
    """The notice of the instalment to pay, else of the bill; ``None`` without a valid notice code.

    The creditor is the flow's ``creditor_fiscal_code`` when it sends one, else the tenant's VAT number.
    """
    pagopa = ((bill.details or {}).get("payment") or {}).get("pagopa") or {}
    code = (instalment.notice_code if instalment else None) or pagopa.get("notice_code")
    if code is None:
        code = next((item.notice_code for item in bill.instalments if item.notice_code), None)
    creditor = str(pagopa.get("creditor_fiscal_code") or seller_vat).removeprefix("IT")
    if not code or not code.isdigit() or len(code) != 18 or not (creditor.isdigit() and len(creditor) == 11):
        return None
    amount = instalment.amount if instalment else bill.amount_due
    return PagoPANotice(notice_code=code, creditor_fiscal_code=creditor, amount=amount)
