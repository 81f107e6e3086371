"""Online payments: start an attempt (never moves money), apply a verified notification.

The amount always comes from the stored bill, never from the browser. A bill is paid when every
instalment is; a notification is applied with a compare-and-set on the payment's status, so a
replay changes nothing and a bill cannot be paid twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bolletta.gateways.base import Notification, PaymentRequest
from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Bill, Event, Instalment, Payment, Ticket
from bolletta.platform.errors import BollettaError, NotFound
from bolletta.platform.i18n import formatting
from bolletta.platform.payments.gateways import gateway_for
from bolletta.platform.runtime import Runtime
from bolletta.platform.tickets.links import customer_base_url
from bolletta.platform.tokens import random_base62
from bolletta.tenants.registry import get_tenant, tenant_config

logger = logging.getLogger(__name__)

PENDING_RECHECK_AFTER = timedelta(minutes=30)
SERVICE_NAMES = {"electricity": "luce", "gas": "gas", "water": "acqua"}


class PaymentNotAllowed(BollettaError):
    """Raised when a bill cannot be paid online now; the message can be shown to the customer."""


def next_instalment(bill: Bill) -> Instalment | None:
    """Return the first unpaid instalment by due date, or ``None`` when none is left."""
    unpaid = [item for item in bill.instalments if item.paid_at is None]
    return min(unpaid, key=lambda item: (item.due_date is None, item.due_date, item.position), default=None)


def open_attempt(session: Session, bill: Bill) -> Payment | None:
    """Return a pending attempt younger than 30 minutes, which blocks a second one."""
    limit = clock.now() - PENDING_RECHECK_AFTER
    return session.scalar(
        select(Payment).where(
            Payment.bill_id == bill.id, Payment.status.in_(("created", "pending")), Payment.created_at > limit
        )
    )


def start_payment(rt: Runtime, tenant: str, bill_public_id: str, ticket_id: int, gateway_id: str) -> str:
    """Create a payment attempt and return the gateway URL to send the customer to."""
    config = tenant_config(get_tenant(rt.db, tenant))
    gateway = gateway_for(rt, tenant, config, gateway_id)
    with rt.db.tenant_session(tenant) as session:
        bill = session.scalar(select(Bill).where(Bill.public_id == bill_public_id))
        if bill is None:
            raise NotFound("Bill not found.")
        if not bill.payable_online or bill.paid_at is not None:
            raise PaymentNotAllowed("Questa bolletta non si può pagare online.")
        if open_attempt(session, bill) is not None:
            raise PaymentNotAllowed("Un pagamento è già in verifica: attendi la conferma.")
        instalment = next_instalment(bill)
        amount = instalment.amount if instalment else bill.amount_due
        now = clock.now()
        payment = Payment(
            order_id="B" + random_base62(20), bill_id=bill.id,
            instalment_id=instalment.id if instalment else None, ticket_id=ticket_id,
            gateway=gateway_id, status="created", amount=amount, currency=bill.currency,
            created_at=now, updated_at=now,
        )
        session.add(payment)
        session.flush()
        base = customer_base_url(rt.settings, tenant, config)
        request = PaymentRequest(
            payment_id=str(payment.id), order_id=payment.order_id, amount=amount, currency=bill.currency,
            description=f"Bolletta {SERVICE_NAMES.get(bill.service, bill.service)} n. "
            f"{bill.document_number} del {formatting.day(bill.issue_date)}",
            return_url=f"{base}/b/{bill.public_id}/sommario",
            cancel_url=f"{base}/b/{bill.public_id}/sommario",
            notify_url=f"{rt.settings.public_base_url.rstrip('/')}/hooks/gateways/{gateway_id}/{tenant}",
            tenant_slug=tenant,
        )
        prepared = gateway.prepare(request)
        payment.status = "pending"
        payment.provider_reference = prepared.provider_reference
        session.add(Event(ticket_id=ticket_id, bill_id=bill.id, kind="payment_started", at=now,
                          data={"gateway": gateway_id, "order_id": payment.order_id}))
        session.commit()
    logger.info("tenant %s: payment %s started on %s", tenant, payment.order_id, gateway_id)
    return prepared.redirect_url


def apply_notification(rt: Runtime, tenant: str, gateway_id: str, notification: Notification) -> str:
    """Apply a verified notification; return ``applied``, ``ignored`` or ``mismatch``."""
    with rt.db.tenant_session(tenant) as session:
        payment = session.scalar(
            select(Payment).where(Payment.order_id == notification.order_id, Payment.gateway == gateway_id)
        )
        if payment is None:
            logger.warning("tenant %s: notification for unknown order from %s", tenant, gateway_id)
            return "ignored"
        if notification.amount != payment.amount or notification.currency != payment.currency:
            logger.warning("tenant %s: payment %s notification amount or currency mismatch", tenant,
                           payment.order_id)
            return "mismatch"
        if notification.status not in ("completed", "failed", "cancelled"):
            return "ignored"
        now = clock.now()
        moved = session.execute(
            update(Payment)
            .where(Payment.id == payment.id, Payment.status.in_(("created", "pending")))
            .values(status=notification.status, updated_at=now,
                    completed_at=now if notification.status == "completed" else None)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            session.rollback()
            return "ignored"
        if notification.status == "completed":
            _mark_paid(session, payment, now)
        kind = "payment_completed" if notification.status == "completed" else "payment_failed"
        channel = session.scalar(select(Ticket.channel).where(Ticket.id == payment.ticket_id))
        session.add(Event(ticket_id=payment.ticket_id, bill_id=payment.bill_id, kind=kind, at=now,
                          channel=channel, data={"gateway": gateway_id, "order_id": payment.order_id}))
        session.commit()
    logger.info("tenant %s: payment %s is %s", tenant, notification.order_id, notification.status)
    return "applied"


def _mark_paid(session: Session, payment: Payment, now: object) -> None:
    bill = session.get_one(Bill, payment.bill_id)
    if payment.instalment_id is not None:
        session.execute(
            update(Instalment).where(Instalment.id == payment.instalment_id).values(paid_at=now)
        )
    session.refresh(bill)
    for item in bill.instalments:
        session.refresh(item)
    if all(item.paid_at is not None for item in bill.instalments):
        bill.paid_at = now  # type: ignore[assignment]


def paid_total(session: Session, bill: Bill) -> Decimal:
    """Sum of the bill's completed online payments."""
    amounts = session.scalars(
        select(Payment.amount).where(Payment.bill_id == bill.id, Payment.status == "completed")
    ).all()
    return sum(amounts, Decimal(0))
