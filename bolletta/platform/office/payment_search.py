"""The "Stato pagamenti" query: online payments by date, status and gateway, with totals."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from bolletta.platform.db.models.tenant import Bill, Payment
from bolletta.platform.office.listing import Paging, Query, numeric, read_paging, rome_range

STATUSES = ("created", "pending", "completed", "failed", "cancelled", "refunded")
SORT_KEYS = ("date", "status", "gateway", "amount", "document")


@dataclass(frozen=True)
class PaymentFilters:
    """The filters of "Stato pagamenti"."""

    date_from: date | None = None
    date_to: date | None = None
    status: str | None = None
    gateway: str | None = None


def read_filters(query: Query) -> PaymentFilters:
    """Read the filters; unreadable fields go to ``query.errors``."""
    return PaymentFilters(date_from=query.day("date_from"), date_to=query.day("date_to"),
                          status=query.choice("status", STATUSES), gateway=query.text("gateway", 60))


def read_payment_paging(query: Query) -> Paging:
    """Page and sort; newest payment first by default."""
    return read_paging(query, SORT_KEYS, "date")


def _conditions(filters: PaymentFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.date_from or filters.date_to:
        start, end = rome_range(filters.date_from or filters.date_to, filters.date_to or filters.date_from)  # type: ignore[arg-type]
        conditions += [Payment.created_at >= start, Payment.created_at < end]
    if filters.status:
        conditions.append(Payment.status == filters.status)
    if filters.gateway:
        conditions.append(Payment.gateway == filters.gateway)
    return conditions


@dataclass(frozen=True)
class PaymentRow:
    """One payment attempt with its bill's identifying fields."""

    payment_id: int
    created_at: datetime
    order_id: str
    gateway: str
    status: str
    amount: Decimal
    currency: str
    completed_at: datetime | None
    bill_id: int
    document_number: str
    customer_name: str
    flag: str | None
    """A problem for staff: ``already_paid`` or ``bill_corrected``."""


def _select(filters: PaymentFilters) -> Any:
    return (select(Payment.id, Payment.created_at, Payment.order_id, Payment.gateway, Payment.status, Payment.amount,
                   Payment.currency, Payment.completed_at, Bill.id, Bill.document_number, Bill.customer_name,
                   Payment.flag)
            .join(Bill, Bill.id == Payment.bill_id).where(and_(True, *_conditions(filters))))


def _order(paging: Paging) -> Sequence[Any]:
    column: Any = {"date": Payment.created_at, "status": Payment.status, "gateway": Payment.gateway,
                   "amount": numeric(Payment.amount), "document": Bill.document_number}[paging.sort]
    return [column.desc() if paging.descending else column.asc(), Payment.id.desc()]


def count_payments(session: Session, filters: PaymentFilters) -> int:
    """Count the matching payments."""
    return session.scalar(select(func.count(Payment.id)).where(and_(True, *_conditions(filters)))) or 0


def totals(session: Session, filters: PaymentFilters) -> list[tuple[str, int, Decimal]]:
    """Count and amount per status of the matching payments."""
    query = select(Payment.status, Payment.amount).where(and_(True, *_conditions(filters)))
    sums: dict[str, tuple[int, Decimal]] = {}
    # Amounts are summed in Python: SQLite keeps them as text to stay exact.
    for status, amount in session.execute(query.execution_options(yield_per=5000)):
        count, total = sums.get(status, (0, Decimal(0)))
        sums[status] = (count + 1, total + amount)
    return [(status, *sums[status]) for status in STATUSES if status in sums]


def search_payments(session: Session, filters: PaymentFilters, paging: Paging) -> list[PaymentRow]:
    """Return one page of payments."""
    query = _select(filters).order_by(*_order(paging)).limit(paging.size).offset(paging.offset)
    return [PaymentRow(*row) for row in session.execute(query)]


def iter_payments(session: Session, filters: PaymentFilters, paging: Paging) -> Iterator[PaymentRow]:
    """Yield every matching payment (exports)."""
    for row in session.execute(_select(filters).order_by(*_order(paging)).execution_options(yield_per=2000)):
        yield PaymentRow(*row)
