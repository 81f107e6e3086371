"""The view model of the "Sommario" page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, selectinload

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Bill, Instalment, Payment
from bolletta.platform.payments.display import test_mode_gateways
from bolletta.platform.payments.service import PENDING_RECHECK_AFTER, next_instalment
from bolletta.tenants.config import TenantConfig

SERVICE_LABELS = {"electricity": "Electricity", "gas": "Gas", "water": "Water"}


@dataclass
class SummaryView:
    """View model of the summary. Every field is already decided, so the template only lays it out."""

    bill: Bill
    amount_due: Decimal
    due_date: date | None
    instalments: list[Instalment]
    next_instalment: Instalment | None
    state: str
    """``payable``, ``verifying``, ``paid``, ``direct_debit``, ``credit_note`` or ``not_payable``."""
    overdue: bool
    gateways: list[str] = field(default_factory=list)
    completed_payment: Payment | None = None
    has_pdf: bool = False
    test_mode_gateways: list[str] = field(default_factory=list)
    """Enabled gateways in test mode; the page shows a banner for each."""
    last_attempt: str | None = None
    """``failed`` or ``cancelled`` when the newest payment attempt ended so and the bill is payable again."""


async def load_bill(session: AsyncSession, bill_id: int) -> Bill:
    """Load the bill with its instalments and cost lines."""
    result = await session.execute(
        select(Bill)
        .where(Bill.id == bill_id)
        .options(selectinload(Bill.instalments), selectinload(Bill.costs))
        .execution_options(populate_existing=True)
    )
    return result.scalar_one()


async def summary_view(session: AsyncSession, bill: Bill | int, config: TenantConfig) -> SummaryView:
    """Decide the payment state and buttons of the summary of ``bill`` (a bill or its id)."""
    bill_id = bill if isinstance(bill, int) else bill.id
    payments = (
        await session.scalars(select(Payment).where(Payment.bill_id == bill_id).order_by(Payment.id.desc()))
    ).all()
    # Read the bill again after its payments: a completion commits the payment and the bill's
    # paid_at together, so a completed payment seen above is then always matched by paid_at.
    return decide_summary(await load_bill(session, bill_id), list(payments), config)


def summary_view_sync(session: Session, bill_id: int, config: TenantConfig) -> SummaryView:
    """Do what :func:`summary_view` does with a synchronous session (workers)."""
    payments = session.scalars(select(Payment).where(Payment.bill_id == bill_id).order_by(Payment.id.desc())).all()
    bill = session.execute(
        select(Bill)
        .where(Bill.id == bill_id)
        .options(selectinload(Bill.instalments), selectinload(Bill.costs))
        .execution_options(populate_existing=True)
    ).scalar_one()
    return decide_summary(bill, list(payments), config)


def decide_summary(bill: Bill, payments: list[Payment], config: TenantConfig) -> SummaryView:
    """Decide the summary of ``bill`` from its payments, newest first."""
    completed = next((item for item in payments if item.status == "completed"), None)
    recent = clock.now() - PENDING_RECHECK_AFTER
    verifying = any(
        item.status in ("created", "pending") and clock.as_utc(item.created_at) > recent for item in payments
    )
    upcoming = next_instalment(bill)
    due_date = upcoming.due_date if upcoming else bill.due_date
    if bill.is_credit_note:
        state = "credit_note"
    elif bill.paid_at is not None:
        state = "paid"
    elif bill.direct_debit:
        state = "direct_debit"
    elif verifying:
        state = "verifying"
    elif bill.payable_online and config.enabled_gateways:
        state = "payable"
    else:
        state = "not_payable"
    overdue = state in ("payable", "verifying", "not_payable") and due_date is not None and (
        due_date < clock.now().astimezone(clock.ROME).date()
    )
    return SummaryView(
        bill=bill,
        amount_due=upcoming.amount if upcoming else bill.amount_due,
        due_date=due_date,
        instalments=list(bill.instalments),
        next_instalment=upcoming,
        state=state,
        overdue=overdue,
        gateways=list(config.enabled_gateways) if state == "payable" else [],
        completed_payment=completed,
        has_pdf=bill.pdf_key is not None,
        test_mode_gateways=test_mode_gateways(config) if state in ("payable", "verifying") else [],
        last_attempt=_ended_attempt(payments) if state == "payable" else None,
    )


def _ended_attempt(payments: Sequence[Payment]) -> str | None:
    """Return the status of the newest attempt (``payments`` is newest first) when it failed or was cancelled."""
    if payments and payments[0].status in ("failed", "cancelled"):
        return payments[0].status
    return None
