from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bolletta.platform.db.base import TenantBase


class WebhookEndpoint(TenantBase):
    """A URL of the utility's systems that receives the events it subscribed to, signed with its secret."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    secret_sealed: Mapped[str] = mapped_column(Text)
    """The signing secret, encrypted at rest; shown to the tenant admin once, when the endpoint is added."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))


class WebhookDelivery(TenantBase):
    """One event for one endpoint, delivered in order with the other events of the same object."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(100))
    object_key: Mapped[str] = mapped_column(String(100), index=True)
    """The object the event is about, such as ``job:12``; deliveries of one object go out in id order."""
    body: Mapped[str] = mapped_column(Text)
    """The exact JSON text sent, so a retry or a replay carries the same bytes and signature input."""
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    """``pending``, ``delivered`` or ``failed`` (given up after the retry window)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    """When the scheduler should queue the next attempt; empty while an attempt is queued or done."""
    retry_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """End of the retry window, set at the first attempt (a delivery held behind an earlier one of
    the same object gets its whole window) and cleared by a replay."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookAttempt(TenantBase):
    """One HTTP request of a delivery and its outcome."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(String(500), default="")
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
