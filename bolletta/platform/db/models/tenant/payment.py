from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bolletta.platform.db.base import ExactDecimal, TenantBase


class Payment(TenantBase):
    """One online payment attempt for one instalment of a bill."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[str] = mapped_column(String(40), unique=True)
    """Our order id sent to the gateway: unique per attempt, at most 27 characters of [A-Za-z0-9]."""
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id"), index=True)
    instalment_id: Mapped[int | None] = mapped_column(ForeignKey("instalments.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    gateway: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20), index=True)
    """``created``, ``pending``, ``completed``, ``failed``, ``cancelled``, ``refunded``."""
    amount: Mapped[Decimal] = mapped_column(ExactDecimal)
    currency: Mapped[str] = mapped_column(String(3))
    provider_reference: Mapped[str | None] = mapped_column(String(200))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
