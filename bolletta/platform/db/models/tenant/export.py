from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bolletta.platform.db.base import TenantBase


class Export(TenantBase):
    """A list export too large to stream at once, written by a worker and downloaded when ready."""

    __tablename__ = "exports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    """The list exported: ``tickets``, ``bills``, ``jobs``, ``payments`` or ``mailings``."""
    file_format: Mapped[str] = mapped_column(String(10))
    """``csv`` or ``xlsx``."""
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    language: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(20))
    """``queued``, ``running``, ``ready`` or ``failed``."""
    rows: Mapped[int | None] = mapped_column(Integer)
    storage_key: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
