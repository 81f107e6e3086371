"""Online payments: start an attempt (never moves money) and settle attempts with the gateway.

The amount always comes from the stored bill, never from the browser. A bill is paid when every
instalment is. One attempt at a time: a second one is refused while the first is pending, unless
the first is older than 30 minutes and the gateway, asked server-side, says it did not complete.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bolletta.gateways.base import Gateway, PaymentRequest
from bolletta.gateways.errors import GatewayError
from bolletta.platform import clock, tasks
from bolletta.platform.db.models.tenant import Bill, Event, Instalment, Payment
from bolletta.platform.errors import BollettaError, NotFound
from bolletta.platform.i18n import formatting
from bolletta.platform.payments.attempts import as_attempt
from bolletta.platform.payments.gateways import gateway_for
from bolletta.platform.payments.notifications import OPEN_STATUSES, apply_notification
from bolletta.platform.runtime import Runtime
from bolletta.platform.tickets.links import customer_base_url
from bolletta.platform.tokens import random_base62
from bolletta.tenants.registry import get_tenant, tenant_config

logger = logging.getLogger(__name__)

PENDING_RECHECK_AFTER = timedelta(minutes=30)
SERVICE_NAMES = {"electricity": "luce", "gas": "gas", "water": "acqua"}
ORDER_ID_LENGTH = 20
"""Random characters after the ``B`` prefix: 21 in all, within Nexi's 30 and Satispay's 50."""


class PaymentNotAllowed(BollettaError):
    """Raised when a bill cannot be paid online now; ``reason`` picks the customer's message."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
        """``not_payable``, ``paid`` or ``pending``."""


def next_instalment(bill: Bill) -> Instalment | None:
    """Return the first unpaid instalment by due date, or ``None`` when none is left."""
    unpaid = [item for item in bill.instalments if item.paid_at is None]
    return min(unpaid, key=lambda item: (item.due_date is None, item.due_date, item.position), default=None)


def open_attempts(session: Session, bill: Bill) -> list[Payment]:
    """Return the bill's attempts still waiting for the gateway's outcome, newest first."""
    return list(session.scalars(
        select(Payment).where(Payment.bill_id == bill.id, Payment.status.in_(OPEN_STATUSES)).order_by(Payment.id.desc())
    ))


def order_description(bill: Bill) -> str:
    """Return the order description the gateway shows: ``Bolletta luce n. 2023/B002/6452 del 17/08/2023``."""
    service = SERVICE_NAMES.get(bill.service, bill.service)
    return f"Bolletta {service} n. {bill.document_number} del {formatting.day(bill.issue_date)}"


def start_payment(rt: Runtime, tenant: str, bill_public_id: str, ticket_id: int, gateway_id: str,
                  language: str = "it") -> str:
    """Create a payment attempt and return the gateway URL to send the customer to.

    ``language`` is the language of the customer's bill page; the gateway shows its hosted page in
    it where the provider offers that language.

    For a gateway that takes a form post, the URL is the platform's own page that posts it
    (``/c/<tenant>/pagamento/<order id>/invio``).

    Raises:
        PaymentNotAllowed: the bill is not payable online, is paid, or has an attempt pending.
        ConfigurationError: the gateway is not enabled or its settings are invalid.
        GatewayError: the provider could not prepare the payment.
    """
    config = tenant_config(get_tenant(rt.db, tenant))
    gateway = gateway_for(rt, tenant, config, gateway_id)
    _settle_stale_attempts(rt, tenant, bill_public_id)
    with rt.db.tenant_session(tenant) as session:
        # The no-op update comes first so it takes the bill's row lock (PostgreSQL) or the write lock
        # (SQLite) before anything is read: two clicks at once then check and insert one after the other.
        session.execute(update(Bill).where(Bill.public_id == bill_public_id).values(public_id=Bill.public_id))
        bill = session.scalar(select(Bill).where(Bill.public_id == bill_public_id))
        if bill is None:
            raise NotFound("Bill not found.")
        _check_payable(session, bill)
        instalment = next_instalment(bill)
        amount = instalment.amount if instalment else bill.amount_due
        now = clock.now()
        payment = Payment(
            order_id="B" + random_base62(ORDER_ID_LENGTH), bill_id=bill.id,
            instalment_id=instalment.id if instalment else None, ticket_id=ticket_id,
            gateway=gateway_id, status="created", amount=amount, currency=bill.currency,
            test_mode=gateway.settings.test_mode, provider_data={}, created_at=now, updated_at=now,
        )
        session.add(payment)
        session.commit()
        payment_id, order_id, bill_id = payment.id, payment.order_id, bill.id
        base = customer_base_url(rt.settings, tenant, config)
        attempt_url = f"{base}/b/{bill.public_id}/pagamento/{order_id}"
        request = PaymentRequest(
            payment_id=str(payment_id), order_id=order_id, amount=amount, currency=bill.currency,
            description=order_description(bill),
            return_url=f"{attempt_url}/esito", cancel_url=f"{attempt_url}/annullato",
            notify_url=f"{rt.settings.public_base_url.rstrip('/')}/hooks/gateways/{gateway_id}/{tenant}",
            tenant_slug=tenant, language=language,
        )
    # The provider is called outside the transaction, so a slow gateway keeps no lock. The attempt is
    # already recorded as ``created``, which blocks a second attempt meanwhile.
    try:
        prepared = gateway.prepare(request)
    except Exception as exc:
        _mark_failed(rt, tenant, payment_id, f"prepare failed: {type(exc).__name__}")
        raise
    with rt.db.tenant_session(tenant) as session:
        started = session.get(Payment, payment_id)
        assert started is not None
        started.status = "pending"
        started.provider_reference = prepared.provider_reference
        started.provider_data = {
            **prepared.provider_data,
            **({"form": prepared.form_fields, "form_url": prepared.redirect_url} if prepared.form_fields else {}),
        }
        started.updated_at = clock.now()
        session.add(Event(ticket_id=ticket_id, bill_id=bill_id, kind="payment_started", at=now,
                          data={"gateway": gateway_id, "order_id": order_id}))
        session.commit()
    logger.info("tenant %s: payment %s started on %s", tenant, order_id, gateway_id)
    if prepared.form_fields:
        return f"{base}/pagamento/{order_id}/invio"
    return prepared.redirect_url


def _mark_failed(rt: Runtime, tenant: str, payment_id: int, reason: str) -> None:
    """Close an attempt whose gateway could not prepare it, so the customer may try again."""
    with rt.db.tenant_session(tenant) as session:
        session.execute(update(Payment).where(Payment.id == payment_id, Payment.status == "created")
                        .values(status="failed", updated_at=clock.now()))
        session.commit()
    logger.warning("tenant %s: payment %d closed as failed: %s", tenant, payment_id, reason)


def _check_payable(session: Session, bill: Bill) -> None:
    if not bill.payable_online or bill.direct_debit or bill.is_credit_note or bill.amount_due <= 0:
        raise PaymentNotAllowed("This bill cannot be paid online.", "not_payable")
    if bill.paid_at is not None:
        raise PaymentNotAllowed("This bill is already paid.", "paid")
    limit = clock.now() - PENDING_RECHECK_AFTER
    if any(clock.as_utc(item.created_at) > limit for item in open_attempts(session, bill)):
        raise PaymentNotAllowed("A payment for this bill is being verified.", "pending")


def _settle_stale_attempts(rt: Runtime, tenant: str, bill_public_id: str) -> None:
    """Ask the gateway about the bill's attempts pending for more than 30 minutes, and apply the answers."""
    limit = clock.now() - PENDING_RECHECK_AFTER
    stale: list[str] = []
    with rt.db.tenant_session(tenant) as session:
        bill = session.scalar(select(Bill).where(Bill.public_id == bill_public_id))
        if bill is not None:
            stale = [item.order_id for item in open_attempts(session, bill) if clock.as_utc(item.created_at) <= limit]
    for order_id in stale:
        settle_payment(rt, tenant, order_id, capture=False)


def settle_payment(rt: Runtime, tenant: str, order_id: str, *, capture: bool) -> str:
    """Ask the gateway for an open attempt's outcome server-side and apply it.

    With ``capture`` (the customer returned) the gateway's :meth:`~Gateway.confirm` runs, which
    captures where the provider needs it; otherwise :meth:`~Gateway.query_status`. Returns the
    outcome of :func:`apply_notification`, ``settled`` when the attempt was no longer open, or
    ``unknown`` when the gateway gave no answer.
    """
    config = tenant_config(get_tenant(rt.db, tenant))
    with rt.db.tenant_session(tenant) as session:
        payment = session.scalar(select(Payment).where(Payment.order_id == order_id))
        if payment is None:
            raise NotFound(f"Payment {order_id} not found.")
        if payment.status not in OPEN_STATUSES:
            return "settled"
        attempt = as_attempt(payment)
        gateway_id = payment.gateway
    gateway: Gateway = gateway_for(rt, tenant, config, gateway_id)
    try:
        notification = gateway.confirm(attempt) if capture else gateway.query_status(attempt)
    except GatewayError as exc:
        logger.warning("tenant %s: checking payment %s with %s failed: %s", tenant, order_id, gateway_id, exc)
        notification = None
    with rt.db.tenant_session(tenant) as session:
        session.execute(update(Payment).where(Payment.order_id == order_id).values(checked_at=clock.now()))
        session.commit()
    if notification is None:
        return "unknown"
    if notification.order_id != order_id:
        logger.warning("tenant %s: %s returned the status of another order than %s", tenant, gateway_id, order_id)
        return "mismatch"
    return apply_notification(rt, tenant, gateway, notification, source="query")


def defer_settlement(session: Session, tenant: str, order_id: str, *, capture: bool) -> None:
    """Queue :func:`settle_payment` for after the session's commit."""
    tasks.defer(session, "settle_payment_attempt", tenant, order_id, capture)


def paid_total(session: Session, bill: Bill) -> Decimal:
    """Sum of the bill's completed online payments."""
    amounts = session.scalars(
        select(Payment.amount).where(Payment.bill_id == bill.id, Payment.status == "completed")
    ).all()
    return sum(amounts, Decimal(0))
