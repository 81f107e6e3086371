"""The cases the demo flow covers, as bills: which customer gets which bill and payment.

Each of the first six customers carries one case. The cases are a plain bill with a PDF, a bill in
two instalments, a direct debit, a pagoPA notice, a gas bill, and a batch file with an electricity
and a gas bill of one customer. Customers beyond six get plain bills, and the flow ends with a
credit note.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from bolletta.platform.demo.bills import (
    ELECTRICITY_PRICES,
    GAS_PRICES,
    Bill,
    Line,
    Payment,
    Person,
    Seller,
    consumption_lines,
    split_in_instalments,
    to_cents,
    tv_licence_line,
)
from bolletta.platform.demo.identity import electricity_pod, gas_pdr, pagopa_notice_code
from bolletta.platform.demo.pdf import italian_date

MIN_CUSTOMERS = 6
"""One customer per case: plain bill, instalments, direct debit, pagoPA, gas, batch file."""
PAYMENT_DAYS = 20
SECOND_INSTALMENT_DAYS = 50


@dataclass
class InvoiceFile:
    """One FatturaPA file of the flow: one customer and one bill, or several for a batch."""

    customer: Person
    bills: list[Bill]


class Numbering:
    """Document numbers per series, such as ``2026/E/000123``."""

    def __init__(self, year: int, rng: random.Random) -> None:
        self.year = year
        self.next_number = {series: rng.randint(100, 899) for series in "EGN"}

    def take(self, series: str) -> str:
        number = self.next_number[series]
        self.next_number[series] = number + 1
        return f"{self.year}/{series}/{number:06d}"


@dataclass
class FlowContext:
    """Seller, dates, numbering and random generator that every bill of one flow shares."""

    seller: Seller
    issue_date: date
    period_from: date
    period_to: date
    numbering: Numbering
    rng: random.Random

    def due_date(self, days: int = PAYMENT_DAYS) -> date:
        return self.issue_date + timedelta(days=days)


def billing_period(issue_date: date) -> tuple[date, date]:
    """Return the two whole calendar months before the month of ``issue_date``."""
    period_to = issue_date.replace(day=1) - timedelta(days=1)
    period_from = (period_to.replace(day=1) - timedelta(days=1)).replace(day=1)
    return period_from, period_to


def _supply_bill(context: FlowContext, customer: Person, service: str, lines: list[Line]) -> Bill:
    if service == "electricity":
        number = context.numbering.take("E")
        supply_point = electricity_pod(context.rng)
        title = "energia elettrica"
    else:
        number = context.numbering.take("G")
        supply_point = gas_pdr(context.rng)
        title = "gas naturale"
    period = f"{italian_date(context.period_from)} - {italian_date(context.period_to)}"
    return Bill(
        number=number,
        document_type="TD01",
        issue_date=context.issue_date,
        service=service,
        supply_point=supply_point,
        supply_address=customer.address.one_line(),
        period_from=context.period_from,
        period_to=context.period_to,
        reason=f"Bolletta {title} periodo {period}",
        lines=lines,
    )


def electricity_bill(context: FlowContext, customer: Person, *, tv_licence: bool = False) -> Bill:
    kwh = Decimal(context.rng.randint(280, 900))
    lines = consumption_lines(ELECTRICITY_PRICES, kwh, "kWh")
    if tv_licence:
        lines.append(tv_licence_line(months=2))
    return _supply_bill(context, customer, "electricity", lines)


def gas_bill(context: FlowContext, customer: Person) -> Bill:
    smc = Decimal(context.rng.randint(60, 380))
    return _supply_bill(context, customer, "gas", consumption_lines(GAS_PRICES, smc, "Smc"))


def credit_note(context: FlowContext, corrected: Bill) -> Bill:
    """Return a credit note that gives back part of an earlier bill on the same supply point.

    Amounts are positive, as FatturaPA credit notes carry them, because ``TD04`` gives them their sign.
    It has no payment data because the credit is set off against the next bill.
    """
    kwh = Decimal(context.rng.randint(40, 90))
    lines = [
        Line(f"Ricalcolo {description.lower()}", price, to_cents(kwh * price), kwh, "kWh")
        for description, price in ELECTRICITY_PRICES[:2]
    ]
    earlier_to = context.period_from - timedelta(days=1)
    earlier_from, _ = billing_period(context.period_from)
    earlier_issue = context.issue_date - timedelta(days=61)
    earlier_number = f"{earlier_issue.year}/E/{context.rng.randint(1, 99):06d}"
    return Bill(
        number=context.numbering.take("N"),
        document_type="TD04",
        issue_date=context.issue_date,
        service=corrected.service,
        supply_point=corrected.supply_point,
        supply_address=corrected.supply_address,
        period_from=earlier_from,
        period_to=earlier_to,
        reason=(
            f"Nota di credito a rettifica della fattura {earlier_number}: "
            "importo compensato nella prossima bolletta"
        ),
        lines=lines,
        related_invoice=(earlier_number, earlier_issue),
    )


def _bank_transfer(context: FlowContext, bill: Bill, instalments: int = 1) -> Payment:
    due_dates = [context.due_date(), context.due_date(SECOND_INSTALMENT_DAYS)][:instalments]
    return Payment("MP05", split_in_instalments(bill.total, due_dates), iban=context.seller.iban)


def _direct_debit(context: FlowContext, bill: Bill) -> Payment:
    return Payment("MP16", split_in_instalments(bill.total, [context.due_date()]))


def _pagopa(context: FlowContext, bill: Bill) -> Payment:
    notice_code = pagopa_notice_code(context.rng)
    return Payment("MP23", split_in_instalments(bill.total, [context.due_date()]), notice_code=notice_code)


def plan_files(context: FlowContext, people: list[Person]) -> list[InvoiceFile]:
    """Return the flow's files: one per case for the first six customers, then plain bills."""
    plain = electricity_bill(context, people[0])
    plain.payment, plain.with_pdf = _bank_transfer(context, plain), True

    two_instalments = electricity_bill(context, people[1], tv_licence=True)
    two_instalments.payment = _bank_transfer(context, two_instalments, instalments=2)
    two_instalments.with_pdf = True

    direct_debit = electricity_bill(context, people[2], tv_licence=True)
    direct_debit.payment = _direct_debit(context, direct_debit)

    pagopa = electricity_bill(context, people[3])
    pagopa.payment, pagopa.with_pdf = _pagopa(context, pagopa), True

    gas = gas_bill(context, people[4])
    gas.payment = _bank_transfer(context, gas)

    batch = [electricity_bill(context, people[5], tv_licence=True), gas_bill(context, people[5])]
    for bill in batch:
        bill.payment = _bank_transfer(context, bill)
    batch[1].with_pdf = True

    files = [
        InvoiceFile(people[0], [plain]),
        InvoiceFile(people[1], [two_instalments]),
        InvoiceFile(people[2], [direct_debit]),
        InvoiceFile(people[3], [pagopa]),
        InvoiceFile(people[4], [gas]),
        InvoiceFile(people[5], batch),
    ]
    for index, person in enumerate(people[MIN_CUSTOMERS:]):
        extra = electricity_bill(context, person) if index % 2 == 0 else gas_bill(context, person)
        extra.payment = _bank_transfer(context, extra)
        files.append(InvoiceFile(person, [extra]))

    files.append(InvoiceFile(people[2], [credit_note(context, direct_debit)]))
    return files
