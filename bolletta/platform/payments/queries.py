"""Payments as staff list them ("Stato pagamenti"): filters, rows and totals, for pages and exports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Bill, Payment


@dataclass(frozen=True, kw_only=True)
class PaymentFilter:
    """Filters of the payments list; ``None`` means any."""

    date_from: date | None = None
    """First day (Europe/Rome) of the attempt's creation, inclusive."""
    date_to: date | None = None
    """Last day (Europe/Rome) of the attempt's creation, inclusive."""
    status: str | None = None
    gateway: str | None = None


@dataclass(frozen=True, kw_only=True)
class PaymentRow:
    """One attempt as the list shows it."""

    order_id: str
    gateway: str
    status: str
    amount: Decimal
    currency: str
    transaction_id: str | None
    provider_reference: str | None
    created_at: datetime
    completed_at: datetime | None
    updated_at: datetime
    test_mode: bool
    flag: str | None
    bill_public_id: str
    document_number: str
    customer_code: str


@dataclass(frozen=True, kw_only=True)
class PaymentPage:
    """A page of rows with the totals of every row matching the filters."""

    rows: list[PaymentRow]
    total_count: int
    completed_count: int
    completed_amount: Decimal


def _filtered(query: Select, filters: PaymentFilter) -> Select:  # type: ignore[type-arg]
    if filters.date_from is not None:
        query = query.where(Payment.created_at >= datetime.combine(filters.date_from, time(), clock.ROME))
    if filters.date_to is not None:
        end = datetime.combine(filters.date_to + timedelta(days=1), time(), clock.ROME)
        query = query.where(Payment.created_at < end)
    if filters.status:
        query = query.where(Payment.status == filters.status)
    if filters.gateway:
        query = query.where(Payment.gateway == filters.gateway)
    return query


def list_payments(session: Session, filters: PaymentFilter, *, offset: int = 0, limit: int | None = 50) -> PaymentPage:
    """List the tenant's payment attempts, newest first, with totals over every matching row.

    ``limit=None`` returns every row (exports).
    """
    query = _filtered(select(Payment, Bill).join(Bill, Bill.id == Payment.bill_id), filters)
    query = query.order_by(Payment.created_at.desc(), Payment.id.desc()).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    rows = [
        PaymentRow(
            order_id=payment.order_id, gateway=payment.gateway, status=payment.status, amount=payment.amount,
            currency=payment.currency, transaction_id=payment.transaction_id,
            provider_reference=payment.provider_reference, created_at=clock.as_utc(payment.created_at),
            completed_at=clock.as_utc(payment.completed_at) if payment.completed_at else None,
            updated_at=clock.as_utc(payment.updated_at), test_mode=payment.test_mode, flag=payment.flag,
            bill_public_id=bill.public_id, document_number=bill.document_number, customer_code=bill.customer_code,
        )
        for payment, bill in session.execute(query).all()
    ]
    total_count = session.scalar(_filtered(select(func.count()).select_from(Payment), filters)) or 0
    completed = _filtered(select(Payment.amount).where(Payment.status == "completed"), filters)
    amounts = list(session.scalars(completed))
    return PaymentPage(rows=rows, total_count=total_count, completed_count=len(amounts),
                       completed_amount=sum(amounts, Decimal(0)))
