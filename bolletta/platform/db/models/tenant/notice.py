from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bolletta.platform.db.base import TenantBase


class SentNotice(TenantBase):
    """A staff e-mail claimed before sending, so a redelivered actor message sends it once."""

    __tablename__ = "sent_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    """``outbox:<row id>`` of the task outbox row whose message asked for the e-mail."""
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
