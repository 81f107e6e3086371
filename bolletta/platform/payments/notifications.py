"""Applying a verified notification (or a server-side status) to a stored attempt, once.

Every notification is recorded in ``payment_notifications`` with its outcome. The provider's event
id is unique there, so a replay is answered as ``duplicate`` and changes nothing; a state change is
a compare-and-set on the payment's status, so two different notifications arriving together move
the payment once. Order, amount, currency and merchant must match the stored attempt, which holds
the amount taken from our bill; a notification that does not match is a security event.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bolletta.gateways.base import FINAL_STATUSES, Gateway, Notification
from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Bill, Event, Instalment, Payment, PaymentNotification, Ticket
from bolletta.platform.payments.corrections import CORRECTED_FLAG, amount_corrected
from bolletta.platform.runtime import Runtime
from bolletta.platform.webhooks.events import emit

logger = logging.getLogger(__name__)
security_log = logging.getLogger("bolletta.security")

OPEN_STATUSES = ("created", "pending")
COMPLETABLE_STATUSES = ("created", "pending", "failed", "cancelled")
"""A completion also applies after a failure: Nexi lets a declined order be retried with the same id."""


def record_rejected(rt: Runtime, tenant: str, gateway_id: str, reason: str, order_id: str | None = None) -> None:
    """Record a notification that failed verification and log it as a security event."""
    security_log.warning("tenant=%s gateway=%s notification rejected: %s", tenant, gateway_id, reason)
    with rt.db.tenant_session(tenant) as session:
        session.add(PaymentNotification(gateway=gateway_id, order_id=order_id, outcome="rejected",
                                        reason=reason[:2000], received_at=clock.now()))
        session.commit()


def apply_notification(
    rt: Runtime, tenant: str, gateway: Gateway, notification: Notification, *, source: str = "notification"
) -> str:
    """Apply a verified statement about an attempt and return the outcome.

    ``source`` is ``notification`` for a webhook and ``query`` for a server-side call; only
    webhook events are deduplicated by event id. Returns ``applied``, ``duplicate``, ``ignored``
    (unknown order, pending status, or the attempt already settled) or ``mismatch``.
    """
    event_key = f"{gateway.id}:{notification.event_id}" if notification.event_id and source == "notification" else None
    with rt.db.tenant_session(tenant) as session:
        payment = session.scalar(
            select(Payment).where(Payment.order_id == notification.order_id, Payment.gateway == gateway.id)
        )
        reason = _mismatch(gateway, notification, payment)
        if reason is not None:
            security_log.warning("tenant=%s gateway=%s order=%s notification mismatch: %s", tenant, gateway.id,
                                 notification.order_id, reason)
            _record(session, gateway.id, None, notification, payment, "mismatch", reason)
            session.commit()
            return "mismatch"
        if payment is None:
            # Verified, so the provider sent it, but about no attempt of ours: answered 200 so the
            # provider stops retrying, and logged for staff (another shop on the same account?).
            security_log.warning("tenant=%s gateway=%s verified notification for unknown order %s", tenant,
                                 gateway.id, notification.order_id[:40])
            _record(session, gateway.id, None, notification, None, "ignored", "unknown order")
            session.commit()
            return "ignored"

        try:
            receipt = _record(session, gateway.id, event_key, notification, payment, "received", source)
            session.flush()
        except IntegrityError:
            session.rollback()
            return _duplicate(session, gateway.id, notification, payment)

        outcome = _change_status(session, payment, notification)
        receipt.outcome = outcome
        session.commit()
    logger.info("tenant %s: payment %s %s (%s, %s)", tenant, notification.order_id, outcome,
                notification.status, source)
    return outcome


def _duplicate(session: Session, gateway_id: str, notification: Notification, payment: Payment) -> str:
    logger.info("payment %s: duplicate %s notification %s", payment.order_id, gateway_id, notification.event_id)
    _record(session, gateway_id, None, notification, payment, "duplicate", "event already received")
    session.commit()
    return "duplicate"


def _mismatch(gateway: Gateway, notification: Notification, payment: Payment | None) -> str | None:
    expected = gateway.merchant_account
    if notification.merchant is not None and expected is not None and notification.merchant != expected:
        return f"merchant {notification.merchant!r} is not this tenant's"
    if payment is None:
        return None
    if notification.currency != payment.currency:
        return f"currency {notification.currency} differs from the attempt's {payment.currency}"
    if notification.amount != payment.amount:
        return f"amount {notification.amount} differs from the attempt's {payment.amount}"
    return None


def _record(
    session: Session, gateway_id: str, event_key: str | None, notification: Notification, payment: Payment | None,
    outcome: str, reason: str,
) -> PaymentNotification:
    receipt = PaymentNotification(
        gateway=gateway_id, event_key=event_key, order_id=notification.order_id[:40],
        payment_id=payment.id if payment else None, outcome=outcome, reason=reason[:2000], received_at=clock.now(),
    )
    session.add(receipt)
    return receipt


def _change_status(session: Session, payment: Payment, notification: Notification) -> str:
    if notification.status not in FINAL_STATUSES:
        return "ignored"
    now = clock.now()
    allowed = COMPLETABLE_STATUSES if notification.status == "completed" else OPEN_STATUSES
    moved = session.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.status.in_(allowed))
        .values(
            status=notification.status, updated_at=now,
            completed_at=now if notification.status == "completed" else None,
            transaction_id=notification.transaction_id or payment.transaction_id,
            failure_reason=None if notification.status == "completed" else (notification.detail or None),
        )
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return "ignored"
    if notification.status == "completed":
        _mark_paid(session, payment, now)
        emit(session, "payment.completed", f"payment:{payment.id}", {
            "payment_id": payment.id, "order_id": payment.order_id, "bill_id": payment.bill_id,
            "gateway": payment.gateway, "amount": str(payment.amount), "currency": payment.currency,
            "transaction_id": notification.transaction_id or payment.transaction_id, "completed_at": now.isoformat(),
        })
    kind = "payment_completed" if notification.status == "completed" else "payment_failed"
    channel = session.scalar(select(Ticket.channel).where(Ticket.id == payment.ticket_id))
    session.add(Event(ticket_id=payment.ticket_id, bill_id=payment.bill_id, kind=kind, at=now, channel=channel,
                      data={"gateway": payment.gateway, "order_id": payment.order_id}))
    return "applied"


def _mark_paid(session: Session, payment: Payment, now: datetime) -> None:
    """Mark the attempt's instalment paid, and the bill when every instalment is.

    A completion for an instalment or bill that is already paid is kept and flagged for staff
    (a refund is due), instead of being dropped. One whose bill a corrected re-issue replaced for
    another amount still pays the attempt's own bill, never the re-issue, and is flagged too.
    """
    bill = session.get_one(Bill, payment.bill_id)
    if payment.instalment_id is not None:
        marked = session.execute(
            update(Instalment).where(Instalment.id == payment.instalment_id, Instalment.paid_at.is_(None))
            .values(paid_at=now)
        )
        already_paid = marked.rowcount != 1  # type: ignore[attr-defined]
    else:
        already_paid = bill.paid_at is not None
    if already_paid:
        security_log.warning("payment %s completed for an instalment already paid; flagged for staff",
                             payment.order_id)
        session.execute(update(Payment).where(Payment.id == payment.id).values(flag="already_paid"))
        return
    if amount_corrected(session, bill):
        logger.warning("payment %s completed for a bill re-issued with another amount; flagged for staff",
                       payment.order_id)
        session.execute(update(Payment).where(Payment.id == payment.id).values(flag=CORRECTED_FLAG))
    session.refresh(bill)
    for item in bill.instalments:
        session.refresh(item)
    if all(item.paid_at is not None for item in bill.instalments):
        bill.paid_at = now
