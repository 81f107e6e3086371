"""The demo bills as plain data, with the cost lines and amounts of each, before any XML is written.

All amounts are ``Decimal`` rounded half up to the cent, line by line, as billing systems do. The
document total is the sum of the rounded lines plus the VAT of each VAT summary.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
VAT_RATE = Decimal("10.00")
"""Reduced VAT rate for household electricity and gas, in percent."""
NO_VAT = Decimal("0.00")
OUT_OF_SCOPE_NATURE = "N2.2"
"""FatturaPA ``Natura`` for lines outside the scope of VAT, such as the TV licence fee."""
OUT_OF_SCOPE_REFERENCE = "Operazione fuori campo IVA"

ELECTRICITY_PRICES = (
    ("Spesa per la materia energia", Decimal("0.128450")),
    ("Spesa per il trasporto e la gestione del contatore", Decimal("0.041230")),
    ("Spesa per oneri di sistema", Decimal("0.029870")),
    ("Accisa sull'energia elettrica", Decimal("0.022700")),
)
"""Descriptions and prices in euro per kWh. Every line repeats the kWh billed, as real bills do."""

GAS_PRICES = (
    ("Spesa per la materia gas naturale", Decimal("0.612300")),
    ("Spesa per il trasporto e la gestione del contatore", Decimal("0.128900")),
    ("Spesa per oneri di sistema", Decimal("0.046200")),
    ("Accisa sul gas naturale", Decimal("0.175000")),
    ("Addizionale regionale", Decimal("0.031000")),
)
"""Descriptions and prices in euro per Smc."""

TV_LICENCE_DESCRIPTION = "Canone di abbonamento alla televisione per uso privato"
TV_LICENCE_MONTHLY = Decimal("9.00")


def to_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Address:
    street: str
    postcode: str
    town: str
    province: str

    def one_line(self) -> str:
        """Return the address as bills print it, such as ``Via Roma 1 - 00184 Roma (RM)``."""
        return f"{self.street} - {self.postcode} {self.town} ({self.province})"


@dataclass(frozen=True)
class Seller:
    """The utility that issues the bills (``CedentePrestatore``)."""

    name: str
    vat_number: str
    address: Address
    bank: str
    iban: str


@dataclass(frozen=True)
class Person:
    """A household customer (``CessionarioCommittente``) and the contacts the utility holds."""

    first_name: str
    surname: str
    fiscal_code: str
    address: Address
    email: str
    mobile: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.surname}"


@dataclass(frozen=True)
class Line:
    """One ``DettaglioLinee``: quantity and unit are ``None`` for lines billed as a lump sum."""

    description: str
    unit_price: Decimal
    total: Decimal
    quantity: Decimal | None = None
    unit: str | None = None
    vat_rate: Decimal = VAT_RATE
    nature: str | None = None


@dataclass(frozen=True)
class VatSummary:
    """One ``DatiRiepilogo``: the taxable amount and tax of the lines sharing a rate and nature."""

    rate: Decimal
    nature: str | None
    taxable: Decimal
    tax: Decimal


@dataclass(frozen=True)
class Instalment:
    due_date: date
    amount: Decimal


@dataclass(frozen=True)
class Payment:
    """One ``DatiPagamento``: a FatturaPA ``ModalitaPagamento`` code and its instalments."""

    method: str
    instalments: tuple[Instalment, ...]
    iban: str | None = None
    notice_code: str | None = None
    """pagoPA notice code, sent in ``CodicePagamento`` with method ``MP23``."""

    @property
    def terms(self) -> str:
        """``CondizioniPagamento``: ``TP01`` for payment in instalments, ``TP02`` for one payment."""
        return "TP01" if len(self.instalments) > 1 else "TP02"


@dataclass
class Bill:
    """One bill: one ``FatturaElettronicaBody`` for one supply point."""

    number: str
    document_type: str
    issue_date: date
    service: str
    """``electricity`` or ``gas``."""
    supply_point: str
    """POD for electricity, PDR for gas."""
    supply_address: str
    period_from: date
    period_to: date
    reason: str
    """``Causale``: the sentence that heads the bill."""
    lines: list[Line] = field(default_factory=list)
    payment: Payment | None = None
    with_pdf: bool = False
    related_invoice: tuple[str, date] | None = None
    """Number and date of the invoice a credit note corrects."""

    @property
    def supply_point_type(self) -> str:
        return "POD" if self.service == "electricity" else "PDR"

    def vat_summaries(self) -> list[VatSummary]:
        """Group the lines by VAT rate and nature, rounding the tax once per group."""
        groups: dict[tuple[Decimal, str | None], Decimal] = defaultdict(Decimal)
        for line in self.lines:
            groups[(line.vat_rate, line.nature)] += line.total
        return [
            VatSummary(rate, nature, taxable, to_cents(taxable * rate / 100))
            for (rate, nature), taxable in groups.items()
        ]

    @property
    def total(self) -> Decimal:
        """``ImportoTotaleDocumento``: the lines plus VAT."""
        return sum((summary.taxable + summary.tax for summary in self.vat_summaries()), Decimal("0.00"))


def consumption_lines(prices: tuple[tuple[str, Decimal], ...], quantity: Decimal, unit: str) -> list[Line]:
    """Return one line per priced item, each billing the same ``quantity``."""
    return [
        Line(description, price, to_cents(quantity * price), quantity, unit) for description, price in prices
    ]


def tv_licence_line(months: int) -> Line:
    """Return the TV licence fee line, which is outside the scope of VAT."""
    return Line(
        TV_LICENCE_DESCRIPTION,
        TV_LICENCE_MONTHLY,
        to_cents(TV_LICENCE_MONTHLY * months),
        Decimal(months),
        "Mese",
        vat_rate=NO_VAT,
        nature=OUT_OF_SCOPE_NATURE,
    )


def split_in_instalments(total: Decimal, due_dates: list[date]) -> tuple[Instalment, ...]:
    """Split ``total`` into equal instalments, the last one taking the cents left by rounding."""
    share = to_cents(total / len(due_dates))
    amounts = [share] * (len(due_dates) - 1)
    amounts.append(total - sum(amounts, Decimal("0.00")))
    return tuple(Instalment(due, amount) for due, amount in zip(due_dates, amounts, strict=True))
