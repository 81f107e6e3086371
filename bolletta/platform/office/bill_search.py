"""The "Ricerca fatture" query: bills by number, series, year, customer, dates, amount, service, paid.

Bills withdrawn with a rejected or failed job (see :mod:`bolletta.platform.jobs.withdrawal`) stay
in the database but are not current. The list leaves them out unless the ``withdrawn`` filter is
set, and every row shows whether its bill was withdrawn and why.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from bolletta.platform.db.models.tenant import Bill, Job, Payment
from bolletta.platform.i18n.dynamic_ids import N_
from bolletta.platform.jobs import states
from bolletta.platform.office.listing import Paging, Query, numeric, read_paging

SERVICES = ("electricity", "gas", "water")
SORT_KEYS = ("document", "issue", "due", "amount", "customer", "job")
WITHDRAWN_CHOICES = ("include", "only")
"""Values of the ``withdrawn`` filter; without it only current bills are listed."""
WITHDRAWAL_CAUSES = {states.TEST_REJECTED: N_("JOB rejected"), states.FAILED: N_("JOB failed")}
"""Labels of the causes :func:`withdrawal_cause` returns, as the exports write them."""


@dataclass(frozen=True)
class BillFilters:
    """The filters of "Ricerca fatture"; ``None`` means not applied."""

    document_number: str | None = None
    series: str | None = None
    year: int | None = None
    customer: str | None = None
    issue_from: date | None = None
    issue_to: date | None = None
    due_from: date | None = None
    due_to: date | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    service: str | None = None
    paid: str | None = None
    """``yes`` or ``no``."""
    job_id: int | None = None
    withdrawn: str | None = None
    """``include`` lists withdrawn bills beside the current ones, ``only`` lists just them."""


def read_filters(query: Query) -> BillFilters:
    """Read the filters; unreadable fields go to ``query.errors``."""
    return BillFilters(
        document_number=query.text("document_number", 60), series=query.text("series", 40),
        year=query.integer("year"), customer=query.text("customer", 200), issue_from=query.day("issue_from"),
        issue_to=query.day("issue_to"), due_from=query.day("due_from"), due_to=query.day("due_to"),
        amount_min=query.amount("amount_min"), amount_max=query.amount("amount_max"),
        service=query.choice("service", SERVICES), paid=query.choice("paid", ("yes", "no")),
        job_id=query.integer("job_id"), withdrawn=query.choice("withdrawn", WITHDRAWN_CHOICES),
    )


def read_bill_paging(query: Query) -> Paging:
    """Page and sort; newest issue date first by default."""
    return read_paging(query, SORT_KEYS, "issue")


def paid_condition() -> ColumnElement[bool]:
    """Paid online, or marked paid by a later flow."""
    online = exists().where(Payment.bill_id == Bill.id, Payment.status == "completed")
    return or_(Bill.paid_at.is_not(None), online)


def _conditions(filters: BillFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    simple = {Bill.document_number: filters.document_number, Bill.series: filters.series, Bill.year: filters.year,
              Bill.service: filters.service, Bill.job_id: filters.job_id}
    conditions += [column == value for column, value in simple.items() if value is not None]
    if filters.customer:
        pattern = f"%{filters.customer.lower()}%"
        conditions.append(or_(Bill.customer_code == filters.customer, func.lower(Bill.customer_name).like(pattern)))
    ranges = ((Bill.issue_date, filters.issue_from, filters.issue_to),
              (Bill.due_date, filters.due_from, filters.due_to))
    for column, first, last in ranges:
        if first is not None:
            conditions.append(column >= first)
        if last is not None:
            conditions.append(column <= last)
    if filters.amount_min is not None:
        conditions.append(numeric(Bill.amount_due) >= filters.amount_min)
    if filters.amount_max is not None:
        conditions.append(numeric(Bill.amount_due) <= filters.amount_max)
    if filters.paid == "yes":
        conditions.append(paid_condition())
    elif filters.paid == "no":
        conditions.append(~paid_condition())
    if filters.withdrawn is None:
        conditions.append(Bill.withdrawn_at.is_(None))
    elif filters.withdrawn == "only":
        conditions.append(Bill.withdrawn_at.is_not(None))
    return conditions


def withdrawal_cause() -> ColumnElement[Any]:
    """Return why the bill's job released it: ``test_rejected`` or ``failed``; ``None`` for a current bill.

    The job's state cannot tell once an administrator has cancelled the released job, but only a
    rejection stores a rejection reason.
    """
    return case(
        (Bill.withdrawn_at.is_(None), None),
        (Job.rejection_reason.is_not(None), states.TEST_REJECTED),
        else_=states.FAILED,
    )


@dataclass(frozen=True)
class BillRow:
    """One line of the results."""

    bill_id: int
    document_number: str
    series: str
    year: int
    job_id: int
    issue_date: date
    due_date: date | None
    amount_due: Decimal
    currency: str
    service: str
    customer_code: str
    customer_name: str
    paid: bool
    paid_at: datetime | None
    withdrawn_at: datetime | None
    withdrawn_because: str | None
    """The job state that withdrew the bill (``test_rejected`` or ``failed``), ``None`` for a current bill."""


def _select(filters: BillFilters) -> Any:
    return select(
        Bill.id, Bill.document_number, Bill.series, Bill.year, Bill.job_id, Bill.issue_date, Bill.due_date,
        Bill.amount_due, Bill.currency, Bill.service, Bill.customer_code, Bill.customer_name,
        paid_condition().label("paid"), Bill.paid_at, Bill.withdrawn_at, withdrawal_cause().label("withdrawn_because"),
    ).join(Job, Job.id == Bill.job_id).where(and_(True, *_conditions(filters)))


def _order(paging: Paging) -> Sequence[Any]:
    column: Any = {"document": Bill.document_number, "issue": Bill.issue_date, "due": Bill.due_date,
                   "amount": numeric(Bill.amount_due), "customer": Bill.customer_name, "job": Bill.job_id}[paging.sort]
    return [column.desc() if paging.descending else column.asc(), Bill.id.desc() if paging.descending else Bill.id]


def count_bills(session: Session, filters: BillFilters) -> int:
    """Count the matching bills."""
    return session.scalar(select(func.count(Bill.id)).where(and_(True, *_conditions(filters)))) or 0


def count_hidden_withdrawn(session: Session, filters: BillFilters) -> int:
    """Count the withdrawn bills that match ``filters`` but are left out because no ``withdrawn`` filter is set."""
    if filters.withdrawn is not None:
        return 0
    return count_bills(session, replace(filters, withdrawn="only"))


def search_bills(session: Session, filters: BillFilters, paging: Paging) -> list[BillRow]:
    """Return one page of bills."""
    query = _select(filters).order_by(*_order(paging)).limit(paging.size).offset(paging.offset)
    return [BillRow(*row) for row in session.execute(query)]


def iter_bills(session: Session, filters: BillFilters, paging: Paging) -> Iterator[BillRow]:
    """Yield every matching bill, read in batches (exports)."""
    for row in session.execute(_select(filters).order_by(*_order(paging)).execution_options(yield_per=2000)):
        yield BillRow(*row)
