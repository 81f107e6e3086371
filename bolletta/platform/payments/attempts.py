"""Stored payment rows as the plugin contract's :class:`PaymentAttempt`, and the lookup plugins use."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bolletta.gateways.base import PaymentAttempt
from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Payment


def as_attempt(payment: Payment) -> PaymentAttempt:
    """Return the plugin's view of ``payment``."""
    return PaymentAttempt(
        order_id=payment.order_id,
        amount=payment.amount,
        currency=payment.currency,
        created_at=clock.as_utc(payment.created_at),
        provider_reference=payment.provider_reference,
        provider_data={str(key): str(value) for key, value in (payment.provider_data or {}).items()},
        transaction_id=payment.transaction_id,
    )


class SessionAttempts:
    """Finds one gateway's attempts in a tenant session (an :class:`AttemptLookup`)."""

    def __init__(self, session: Session, gateway_id: str) -> None:
        self.session = session
        self.gateway_id = gateway_id

    def by_order_id(self, order_id: str) -> PaymentAttempt | None:
        """Return the attempt with this order id on this gateway, or ``None``."""
        payment = self.session.scalar(
            select(Payment).where(Payment.order_id == order_id, Payment.gateway == self.gateway_id)
        )
        return as_attempt(payment) if payment else None

    def by_provider_reference(self, reference: str) -> PaymentAttempt | None:
        """Return the attempt with this provider reference on this gateway, or ``None``."""
        payment = self.session.scalar(
            select(Payment).where(Payment.provider_reference == reference, Payment.gateway == self.gateway_id)
        )
        return as_attempt(payment) if payment else None
