"""The view models of the four bill sections, built from the stored bill of either flow format.

FatturaPA bills carry the core columns only; JSON Lines bills add ``Bill.details`` (readings,
history, offer, customer services...). Every value a section shows is decided here, and a section
with nothing to show is left out of :attr:`BillPage.sections`, so the tab bar never leads to an
empty page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from bolletta.platform.db.models.tenant import Bill, CostLine
from bolletta.platform.i18n.dynamic_ids import N_
from bolletta.platform.portal.summary import SummaryView

SECTIONS = ("sommario", "importi", "consumi", "dati")
"""Section slugs in URL order: ``/b/<public id>/<section>``."""

SECTION_TITLES = {
    "sommario": N_("Summary"),
    "importi": N_("Amounts"),
    "consumi": N_("Consumption"),
    "dati": N_("Your data"),
}

SUMMARY_2016_ORDER = (
    "supply", "transport_meter", "system_charges", "sewerage", "wastewater_treatment", "excise", "vat",
    "other", "additional_services", "late_interest", "recalculation", "social_bonus", "tv_licence",
)
RECEIPT_QUOTAS = ("consumption_quota", "fixed_quota", "power_quota")
RECEIPT_ORDER = (*RECEIPT_QUOTAS, "excise", "vat", "social_bonus", "tv_licence", "other",
                 "additional_services", "late_interest", "recalculation")
TAX_CATEGORIES = frozenset({"excise", "vat"})

CATEGORY_LABELS = {
    "supply": N_("Energy, gas or water supply"),
    "transport_meter": N_("Transport and meter management"),
    "system_charges": N_("System charges"),
    "sewerage": N_("Sewerage"),
    "wastewater_treatment": N_("Wastewater treatment"),
    "excise": N_("Excise duties"),
    "vat": N_("VAT"),
    "other": N_("Other items"),
    "additional_services": N_("Additional services"),
    "late_interest": N_("Late payment interest"),
    "recalculation": N_("Recalculations"),
    "social_bonus": N_("Social bonus"),
    "tv_licence": N_("TV licence"),
    "consumption_quota": N_("Consumption quota"),
    "fixed_quota": N_("Fixed quota"),
    "power_quota": N_("Power quota"),
}
"""The regulated categories' fixed labels (message ids); lines' own descriptions are shown as sent."""

SUPPLY_LABELS = {
    "electricity": N_("Electricity supply"),
    "gas": N_("Natural gas supply"),
    "water": N_("Water supply"),
}

PAYMENT_METHOD_LABELS = {
    "MP01": N_("Cash"),
    "MP02": N_("Cheque"),
    "MP05": N_("Bank transfer"),
    "MP08": N_("Payment card"),
    "MP16": N_("Direct debit"),
    "MP17": N_("Direct debit"),
    "MP18": N_("Postal payment slip"),
    "MP19": N_("Direct debit"),
    "MP20": N_("Direct debit"),
    "MP21": N_("Direct debit"),
    "MP23": N_("pagoPA"),
}
"""FatturaPA ``ModalitaPagamento`` codes (the JSON Lines methods map to them) to labels."""

READING_TYPE_LABELS = {"actual": N_("actual"), "estimated": N_("estimated"), "customer": N_("customer reading")}
BANDS = ("F1", "F2", "F3")
BAND_LABELS = {"F1": N_("peak hours"), "F2": N_("intermediate hours"), "F3": N_("off-peak hours")}
TEMPLATES = {"sommario": "portal/summary.html", "importi": "portal/amounts.html",
             "consumi": "portal/consumption.html", "dati": "portal/data.html"}


def as_decimal(value: Any) -> Decimal | None:
    """Convert a decimal string of ``details`` to ``Decimal``, or ``None`` when it is missing or invalid."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def as_date(value: Any) -> date | None:
    """Convert an ISO date string of ``details`` to ``date``, or ``None`` when it is missing or invalid."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def share(amount: Decimal, total: Decimal) -> Decimal | None:
    """``amount`` as a percentage of ``total``, one decimal; ``None`` for a zero total."""
    if not total:
        return None
    return (amount * 100 / total).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class Measure:
    """A quantity with its unit, formatted for the page language by the template."""

    value: Decimal
    unit: str


@dataclass
class CostItem:
    """One row of the cost table: a category, or a quota of the receipt layout."""

    category: str
    label: str
    """Message id of the category's fixed label."""
    amount: Decimal
    share: Decimal | None
    lines: list[CostLineView] = field(default_factory=list)
    quantity: Decimal | None = None
    unit: str | None = None
    unit_price: Decimal | None = None


@dataclass
class CostLineView:
    """A line of the flow under its category, with its description as sent."""

    label: str
    amount: Decimal
    quantity: Decimal | None = None
    unit: str | None = None
    unit_price: Decimal | None = None
    part: str | None = None


@dataclass
class Costs:
    """The "Importi" section: the cost breakdown in the bill's layout, and the offer box."""

    layout: str
    items: list[CostItem]
    total: Decimal
    amount_due: Decimal
    average_unit_price: Decimal | None = None
    consumption_unit: str | None = None
    offer_name: str | None = None
    offer_code: str | None = None
    market: str | None = None

    @property
    def has_data(self) -> bool:
        return bool(self.items)


@dataclass
class Reading:
    on: date | None
    type: str
    value: Decimal | None
    band: str | None = None


@dataclass
class Consumption:
    """The "Consumi" section."""

    unit: str | None
    billed: Decimal | None = None
    actual: Decimal | None = None
    estimated: Decimal | None = None
    annual: Decimal | None = None
    annual_from: date | None = None
    annual_to: date | None = None
    annual_cost: Decimal | None = None
    annual_cost_from: date | None = None
    annual_cost_to: date | None = None
    readings: list[Reading] = field(default_factory=list)
    bands: list[tuple[str, Decimal]] = field(default_factory=list)
    history: list[tuple[str, Decimal]] = field(default_factory=list)

    @property
    def has_data(self) -> bool:
        values = (self.billed, self.actual, self.estimated, self.annual, self.annual_cost)
        return any(value is not None for value in values) or bool(self.readings or self.bands or self.history)


@dataclass
class CustomerData:
    """The "I tuoi dati" section: customer, supply, contract settings and the payment method on file."""

    customer: list[tuple[str, str]]
    supply: list[tuple[str, str | Measure]]
    services: list[tuple[str, bool]]
    payment_method: str | None

    @property
    def has_data(self) -> bool:
        return bool(self.customer or self.supply or self.services or self.payment_method)


@dataclass
class PreviousPayments:
    regular: bool
    outstanding: Decimal | None = None
    note: str | None = None


@dataclass
class BillPage:
    """Everything the four section pages of one bill show, decided once per bill and payment state."""

    summary: SummaryView
    costs: Costs
    consumption: Consumption
    data: CustomerData
    payment_methods: list[str]
    """Message ids of the ways to pay this bill, besides the online gateways."""
    previous_payments: PreviousPayments | None
    sections: list[str]
    """Slugs of the sections that have something to show, in tab order."""

    @property
    def bill(self) -> Bill:
        return self.summary.bill


def build_page(summary: SummaryView, glossary: dict[str, str] | None = None,
               section_order: list[str] | None = None, hidden: list[str] | None = None) -> BillPage:
    """Decide every section of ``summary.bill``; sections without data, or hidden by the tenant, are left out."""
    bill = summary.bill
    details = bill.details or {}
    costs = build_costs(bill, glossary or {})
    consumption = build_consumption(bill)
    data = build_customer_data(bill)
    available = {"sommario": True, "importi": costs.has_data, "consumi": consumption.has_data,
                 "dati": data.has_data}
    order = [slug for slug in (section_order or SECTIONS) if slug in SECTIONS]
    order += [slug for slug in SECTIONS if slug not in order]
    sections = [slug for slug in order
                if available[slug] and (slug == "sommario" or slug not in (hidden or []))]
    return BillPage(
        summary=summary, costs=costs, consumption=consumption, data=data,
        payment_methods=_payment_methods(bill), previous_payments=_previous_payments(details),
        sections=sections,
    )


def build_costs(bill: Bill, glossary: dict[str, str]) -> Costs:
    """Group the bill's cost lines into its layout's categories, with each one's share of the total."""
    details = bill.details or {}
    layout = details.get("costs_layout") or "summary_2016"
    if layout == "receipt_2025" and details.get("receipt_costs"):
        lines = [_receipt_line(raw, glossary) for raw in details["receipt_costs"]]
        order: tuple[str, ...] = RECEIPT_ORDER
    else:
        layout = "summary_2016"
        lines = [_cost_line(line, glossary) for line in bill.costs]
        order = SUMMARY_2016_ORDER
    grouped: dict[str, list[tuple[str, CostLineView]]] = {}
    for category, line in lines:
        grouped.setdefault(category, []).append((category, line))
    total = sum((line.amount for _category, line in lines), Decimal(0))
    if bill.total is not None and lines:
        total = bill.total
    categories = [name for name in order if name in grouped]
    categories += [name for name in grouped if name not in categories]
    items = [_cost_item(name, [line for _category, line in grouped[name]], total) for name in categories]
    for item in items:
        if item.category == "supply" and bill.service in SUPPLY_LABELS:
            item.label = SUPPLY_LABELS[bill.service]
    offer = details.get("offer") or {}
    return Costs(
        layout=layout, items=items, total=total, amount_due=bill.amount_due,
        average_unit_price=as_decimal(details.get("average_unit_price")),
        consumption_unit=bill.consumption_unit,
        offer_name=offer.get("name"), offer_code=offer.get("code"), market=details.get("market"),
    )


def _cost_line(line: CostLine, glossary: dict[str, str]) -> tuple[str, CostLineView]:
    return line.category, CostLineView(
        label=glossary.get(line.label, line.label), amount=line.amount, quantity=line.quantity,
        unit=line.unit, unit_price=line.unit_price,
    )


def _receipt_line(raw: dict[str, Any], glossary: dict[str, str]) -> tuple[str, CostLineView]:
    label = str(raw.get("label", ""))
    return str(raw.get("category", "other")), CostLineView(
        label=glossary.get(label, label), amount=as_decimal(raw.get("amount")) or Decimal(0),
        quantity=as_decimal(raw.get("quantity")), unit=raw.get("unit"),
        unit_price=as_decimal(raw.get("unit_price")), part=raw.get("part"),
    )


def _cost_item(category: str, lines: list[CostLineView], total: Decimal) -> CostItem:
    amount = sum((line.amount for line in lines), Decimal(0))
    item = CostItem(category=category, label=CATEGORY_LABELS.get(category, N_("Other items")), amount=amount,
                    share=share(amount, total), lines=lines)
    if category in RECEIPT_QUOTAS:
        # A quota is shown as quantity × unit price = amount, the unit price being the sum of its parts'.
        quantities = {line.quantity for line in lines if line.quantity is not None}
        prices = [line.unit_price for line in lines if line.unit_price is not None]
        if len(quantities) == 1 and prices:
            item.quantity = quantities.pop()
            item.unit = next((line.unit for line in lines if line.unit), None)
            item.unit_price = sum(prices, Decimal(0))
    return item


def build_consumption(bill: Bill) -> Consumption:
    """Collect the consumption figures, readings, time bands and history the bill carries."""
    details = bill.details or {}
    raw = details.get("consumption") or {}
    annual_period = raw.get("annual_period") or {}
    annual_cost = details.get("annual_cost") or {}
    by_band = raw.get("by_band") or {}
    billed = as_decimal(raw.get("billed"))
    return Consumption(
        unit=raw.get("unit") or bill.consumption_unit,
        billed=billed if billed is not None else bill.consumption,
        actual=as_decimal(raw.get("actual")),
        estimated=as_decimal(raw.get("estimated")),
        annual=as_decimal(raw.get("annual")),
        annual_from=as_date(annual_period.get("from")),
        annual_to=as_date(annual_period.get("to")),
        annual_cost=as_decimal(annual_cost.get("amount")),
        annual_cost_from=as_date(annual_cost.get("from")),
        annual_cost_to=as_date(annual_cost.get("to")),
        readings=sorted(
            (Reading(on=as_date(item.get("date")), type=str(item.get("type", "")),
                     value=as_decimal(item.get("value")), band=item.get("band"))
             for item in details.get("readings") or []),
            key=lambda reading: (reading.on or date.min, reading.band or ""),
        ),
        bands=[(band, value) for band in BANDS if (value := as_decimal(by_band.get(band))) is not None],
        history=[(str(point.get("period", "")), value) for point in raw.get("history") or []
                 if (value := as_decimal(point.get("value"))) is not None],
    )


def build_customer_data(bill: Bill) -> CustomerData:
    """Customer and supply facts as (message id, value) pairs, only those the bill carries."""
    details = bill.details or {}
    customer = details.get("customer") or {}
    supply = details.get("supply") or {}
    pairs = [
        (N_("Customer code"), bill.customer_code), (N_("Name"), bill.customer_name),
        (N_("Fiscal code"), bill.fiscal_code), (N_("VAT number"), bill.vat_number),
        (N_("Address"), bill.customer_address), (N_("E-mail"), customer.get("email")),
        (N_("PEC"), customer.get("pec")), (N_("SDI recipient code"), customer.get("sdi_code")),
    ]
    supply_pairs = [
        (N_("POD"), bill.pod), (N_("PDR"), bill.pdr), (N_("Supply address"), bill.supply_address),
        (N_("Meter serial number"), supply.get("meter_serial")),
        (N_("Contracted power"), _kw(supply.get("contracted_power_kw"))),
        (N_("Available power"), _kw(supply.get("available_power_kw"))),
        (N_("Use"), supply.get("use")),
        (N_("Household members"), str(supply["household_members"]) if supply.get("household_members") else None),
    ]
    services = customer.get("services") or {}
    service_flags = [
        (label, bool(services[key]))
        for key, label in (("bill_by_email", N_("Bill by e-mail")), ("bill_by_post", N_("Bill by post")),
                           ("detailed_bill", N_("Detailed bill")))
        if key in services
    ]
    return CustomerData(
        customer=[(label, str(value)) for label, value in pairs if value],
        supply=[(label, value if isinstance(value, Measure) else str(value))
                for label, value in supply_pairs if value],
        services=service_flags,
        payment_method=PAYMENT_METHOD_LABELS.get(bill.payment_method or ""),
    )


def _kw(value: Any) -> Measure | None:
    number = as_decimal(value)
    return None if number is None else Measure(number, "kW")


def _payment_methods(bill: Bill) -> list[str]:
    methods = {PAYMENT_METHOD_LABELS[item.method] for item in bill.instalments
               if item.method in PAYMENT_METHOD_LABELS}
    if bill.payment_method in PAYMENT_METHOD_LABELS:
        methods.add(PAYMENT_METHOD_LABELS[bill.payment_method or ""])
    return sorted(methods)


def _previous_payments(details: dict[str, Any]) -> PreviousPayments | None:
    raw = details.get("previous_payments")
    if not raw:
        return None
    return PreviousPayments(regular=raw.get("status") == "regular",
                            outstanding=as_decimal(raw.get("outstanding_amount")), note=raw.get("note"))
