from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bolletta.platform.db.base import ExactDecimal, TenantBase


class Payment(TenantBase):
    """One online payment attempt for one instalment of a bill."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[str] = mapped_column(String(40), unique=True)
    """Our order id sent to the gateway: unique per attempt, 21 characters of [A-Za-z0-9]."""
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id"), index=True)
    instalment_id: Mapped[int | None] = mapped_column(ForeignKey("instalments.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    gateway: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20), index=True)
    """``created``, ``pending``, ``completed``, ``failed``, ``cancelled``, ``refunded``."""
    amount: Mapped[Decimal] = mapped_column(ExactDecimal)
    currency: Mapped[str] = mapped_column(String(3))
    provider_reference: Mapped[str | None] = mapped_column(String(200))
    """The provider's id of the order or session (PayPal order id, Axerve paymentID...)."""
    transaction_id: Mapped[str | None] = mapped_column(String(200))
    """The provider's id of the money movement, for reconciliation with the provider's reports."""
    provider_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Values the gateway plugin needs after prepare (Nexi's ``securityToken``); never card data."""
    test_mode: Mapped[bool] = mapped_column(Boolean, default=False)
    """The attempt ran against the provider's test environment: no real money moved."""
    flag: Mapped[str | None] = mapped_column(String(40))
    """A problem for staff: ``already_paid`` when a completed payment found the instalment paid."""
    failure_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """Last server-side status query (retry after 30 minutes, nightly reconciliation)."""


class PaymentNotification(TenantBase):
    """Every notification that reached a gateway webhook, with what the platform did with it.

    Rejected ones are the security log of forged or mismatching notifications; ``event_key`` is
    unique, so a replayed notification is recorded once and then answered as a duplicate.
    """

    __tablename__ = "payment_notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gateway: Mapped[str] = mapped_column(String(60))
    event_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    """``<gateway>:<provider event id>`` of a verified notification; empty for rejected ones."""
    order_id: Mapped[str | None] = mapped_column(String(40))
    payment_id: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))
    """``applied``, ``duplicate``, ``ignored``, ``rejected`` or ``mismatch``."""
    reason: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
