"""The Bolletta Smart JSON Lines flow, version ``bolletta-smart/1``, as msgspec structs.

One JSON object per line, one bill per object. Amounts are decimal strings with a dot (``"4082.00"``),
dates are ISO 8601 (``"2025-07-31"``), enumeration values are lower-case. Unknown fields are
rejected, so a misspelt optional field is reported instead of being dropped without notice. The
structs are the source of the published JSON Schema (:func:`flow_json_schema`, ``bolletta schema
flow``) and of ``docs/flow-format.md``: change the three together.

Checks that span several fields (cost categories allowed by the layout, period order) are made by
:mod:`bolletta.platform.ingest.jsonl` after decoding, because JSON Schema cannot express them.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import msgspec

FORMAT = "bolletta-smart/1"
"""The only ``format`` value this version of the platform reads."""

DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"

DecimalText = Annotated[
    str,
    msgspec.Meta(
        pattern=DECIMAL_PATTERN,
        description="Exact decimal as a string, with a dot and no thousands separator.",
        examples=["4082.00", "-12.50", "0.118720"],
    ),
]
ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
LongText = Annotated[str, msgspec.Meta(max_length=1000)]
CurrencyCode = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$", description="ISO 4217 code.")]
LanguageCode = Annotated[
    str, msgspec.Meta(pattern=r"^[a-z]{2}(-[a-z]{2})?$", description="Language code such as 'it' or 'en'.")
]

DocumentType = Literal["invoice", "credit_note"]
PaymentMethod = Literal["direct_debit", "bank_transfer", "postal_slip", "pagopa", "card", "other"]
ContactChannel = Literal["sms", "whatsapp", "email"]
Service = Literal["electricity", "gas", "water"]
CostsLayout = Literal["summary_2016", "receipt_2025"]
ReadingType = Literal["actual", "estimated", "customer"]
Band = Literal["F1", "F2", "F3"]
PaymentStatus = Literal["regular", "outstanding"]
CostPart = Literal["sale", "network_system"]

SUMMARY_2016_CATEGORIES = (
    "supply",
    "transport_meter",
    "system_charges",
    "excise",
    "vat",
    "other",
    "recalculation",
    "social_bonus",
    "tv_licence",
    "late_interest",
    "additional_services",
)
"""Categories of the regulated cost summary that bills used before the receipt-style layout."""

RECEIPT_2025_QUOTAS = ("consumption_quota", "fixed_quota", "power_quota")
"""Categories of the receipt-style layout that a ``part`` splits into sale and network/system."""

RECEIPT_2025_CATEGORIES = (
    *RECEIPT_2025_QUOTAS,
    "excise",
    "vat",
    "social_bonus",
    "tv_licence",
    "recalculation",
    "late_interest",
    "additional_services",
    "other",
)
"""Categories of the receipt-style layout for electricity and gas bills issued from 1 July 2025."""
# NOTE: these names follow the product's design notes, not a reading of the regulator's text
# (ARERA); check them against the resolution in force before a tenant relies on them.

CostCategory = Literal[
    "supply",
    "transport_meter",
    "system_charges",
    "excise",
    "vat",
    "other",
    "recalculation",
    "social_bonus",
    "tv_licence",
    "late_interest",
    "additional_services",
    "consumption_quota",
    "fixed_quota",
    "power_quota",
]


class _Record(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of every struct of the flow: keyword fields only, unknown fields rejected."""


class Period(_Record, kw_only=True):
    """A date range, both ends included."""

    from_: date | None = msgspec.field(default=None, name="from")
    to: date | None = None


class PagoPA(_Record, kw_only=True):
    """The pagoPA payment notice of the bill."""

    notice_code: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{18}$", description="18-digit notice code.")] | None = (
        None
    )
    creditor_fiscal_code: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{11}$")] | None = None


class Offer(_Record, kw_only=True):
    """The commercial offer the supply is billed under."""

    name: ShortText | None = None
    code: ShortText | None = None


class Document(_Record, kw_only=True):
    """The bill as a document: numbering, dates, amounts and payment."""

    number: ShortText
    series: Annotated[str, msgspec.Meta(max_length=50)] | None = None
    year: Annotated[int, msgspec.Meta(ge=1900, le=2999)] | None = None
    """Numbering year; defaults to the year of ``issue_date``."""
    type: DocumentType = "invoice"
    issue_date: date
    due_date: date
    period: Period | None = None
    amount_due: DecimalText
    total: DecimalText | None = None
    currency: CurrencyCode = "EUR"
    payment_method: PaymentMethod | None = None
    payable_online: bool | None = None
    pagopa: PagoPA | None = None
    pdf: Annotated[str, msgspec.Meta(min_length=1, max_length=500)] | None = None
    """Path of the bill's PDF inside the archive, from the archive root, with ``/`` separators."""
    offer: Offer | None = None
    market: ShortText | None = None
    average_unit_price: DecimalText | None = None
    """Average unit price of the bill (total cost over billed consumption), as the utility states it."""


class CustomerContact(_Record, kw_only=True):
    """A channel the customer is notified on."""

    channel: ContactChannel
    address: Annotated[str, msgspec.Meta(min_length=1, max_length=320)]
    """Mobile number for ``sms`` and ``whatsapp``, e-mail address for ``email``."""


class CustomerServices(_Record, kw_only=True):
    """Services the customer subscribed to."""

    bill_by_email: bool | None = None
    bill_by_post: bool | None = None
    detailed_bill: bool | None = None


class Customer(_Record, kw_only=True):
    """The customer the bill is addressed to."""

    code: ShortText
    name: ShortText
    fiscal_code: Annotated[str, msgspec.Meta(min_length=11, max_length=16)] | None = None
    vat_number: Annotated[str, msgspec.Meta(min_length=11, max_length=13)] | None = None
    address: LongText | None = None
    email: Annotated[str, msgspec.Meta(max_length=320)] | None = None
    pec: Annotated[str, msgspec.Meta(max_length=320)] | None = None
    sdi_code: Annotated[str, msgspec.Meta(pattern=r"^[A-Z0-9]{6,7}$")] | None = None
    language: LanguageCode | None = None
    contacts: list[CustomerContact] = []
    services: CustomerServices | None = None


class Supply(_Record, kw_only=True):
    """The supply point the bill is for."""

    service: Service
    pod: ShortText | None = None
    """Electricity point of delivery (POD), such as ``IT001E12345678``."""
    pdr: ShortText | None = None
    """Gas point of redelivery (PDR)."""
    meter_serial: ShortText | None = None
    address: LongText | None = None
    contracted_power_kw: DecimalText | None = None
    available_power_kw: DecimalText | None = None
    use: ShortText | None = None
    household_members: Annotated[int, msgspec.Meta(ge=1, le=99)] | None = None
    """Members of the household, for water tariffs that depend on them."""


class Cost(_Record, kw_only=True):
    """One cost item of the bill."""

    category: CostCategory
    part: CostPart | None = None
    """Required for the quota categories of ``receipt_2025``, absent otherwise."""
    label: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    amount: DecimalText
    quantity: DecimalText | None = None
    unit: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    unit_price: DecimalText | None = None


class BandConsumption(_Record, kw_only=True):
    """Consumption split by the electricity time bands."""

    F1: DecimalText | None = None
    F2: DecimalText | None = None
    F3: DecimalText | None = None


class HistoryPoint(_Record, kw_only=True):
    """Consumption of one past period, for the history chart."""

    period: ShortText
    """Label of the period as the chart shows it, such as ``2025-05`` or ``mag-giu 2025``."""
    value: DecimalText


class Consumption(_Record, kw_only=True):
    """Consumption billed and its context, in ``unit``."""

    unit: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    """``kWh``, ``Smc`` or ``m3``."""
    billed: DecimalText | None = None
    actual: DecimalText | None = None
    estimated: DecimalText | None = None
    annual: DecimalText | None = None
    annual_period: Period | None = None
    by_band: BandConsumption | None = None
    history: list[HistoryPoint] = []


class Reading(_Record, kw_only=True):
    """One meter reading."""

    date: date
    type: ReadingType
    value: DecimalText
    band: Band | None = None


class PreviousPayments(_Record, kw_only=True):
    """Whether earlier bills were paid."""

    status: PaymentStatus
    outstanding_amount: DecimalText | None = None
    note: LongText | None = None


class AnnualCost(_Record, kw_only=True):
    """What the customer spent over a year."""

    amount: DecimalText
    from_: date | None = msgspec.field(default=None, name="from")
    to: date | None = None


class FlowRecord(_Record, kw_only=True):
    """One bill of the Bolletta Smart JSON Lines flow (one line of a .jsonl file)."""

    format: Literal["bolletta-smart/1"]
    document: Document
    customer: Customer
    supply: Supply
    costs_layout: CostsLayout | None = None
    """Defaults to ``receipt_2025`` for electricity and gas bills issued from 1 July 2025, else
    ``summary_2016``."""
    costs: list[Cost] = []
    consumption: Consumption | None = None
    readings: list[Reading] = []
    previous_payments: PreviousPayments | None = None
    annual_cost: AnnualCost | None = None
    extra: dict[str, Any] = {}
    """Free key/value content the tenant's theme may show in extra blocks."""


def flow_json_schema() -> dict[str, Any]:
    """Build the JSON Schema of one flow record, as ``bolletta schema flow`` prints it."""
    schema = msgspec.json.schema(FlowRecord)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Bolletta Smart flow record ({FORMAT})",
        **schema,
    }
