from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bolletta.platform.db.base import PlatformBase


class Tenant(PlatformBase):
    """A utility using the platform. Its business data lives in its own schema or file."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    """Lower-case id used in URLs (``/c/<slug>/``), the schema name and storage keys."""
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="active")
    """``active`` or ``suspended``."""
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Encoded :class:`bolletta.tenants.config.TenantConfig`."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
