from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bolletta.platform.db.base import PlatformBase


class SharedAccount(PlatformBase):
    """A channel provider account the platform owns and lends to tenants that choose it by name."""

    __tablename__ = "shared_accounts"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    """Name that tenants' ``channel_accounts`` refer to."""
    plugin: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """The plugin's settings, secret fields encrypted as in a tenant's ``channel_settings``."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SharedAccountUsage(PlatformBase):
    """Messages one tenant sent through one shared account in one calendar month (UTC)."""

    __tablename__ = "shared_account_usage"

    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    """``YYYY-MM``."""
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
