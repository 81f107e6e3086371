from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bolletta.platform.db.base import PlatformBase


class TenantDraft(PlatformBase):
    """A utility being onboarded: the wizard's values so far, kept until activation or discard."""

    __tablename__ = "tenant_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Step name to that step's values, as the wizard accepted them (no secrets in clear)."""
    completed: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Steps whose values passed their checks."""
    created_by: Mapped[str] = mapped_column(String(150))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    activated_slug: Mapped[str | None] = mapped_column(String(40))
    """The tenant this draft became, once activated."""
