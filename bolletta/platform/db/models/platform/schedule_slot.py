from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from bolletta.platform.db.base import PlatformBase


class ScheduleSlot(PlatformBase):
    """When a periodic task is next due; a scheduler takes a due slot by moving ``due_at`` forward."""

    __tablename__ = "schedule_slots"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    """The task and its subject, such as ``sftp_poll:acme``."""
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
