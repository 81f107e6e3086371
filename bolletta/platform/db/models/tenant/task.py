from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bolletta.platform.db.base import TenantBase


class OutboxTask(TenantBase):
    """A Dramatiq message written in the same transaction as the change that needs it.

    The relay sends it to the broker after commit and stamps ``sent_at``. A rollback leaves no row,
    and a broker outage leaves the row for the next relay.
    """

    __tablename__ = "task_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor: Mapped[str] = mapped_column(String(100))
    args: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    """Time an actor finished the message without error. The in-memory broker of the embedded
    default loses queued messages on a crash, so rows sent but never done are sent again at start."""
