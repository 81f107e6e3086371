from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bolletta.platform.db.base import PlatformBase


class ApiToken(PlatformBase):
    """A tenant's credential for the public API, stored only as the SHA-256 of the token."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    """Purpose of the token, such as the billing system that uploads flows."""
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    """Hex SHA-256 of the whole token; the token itself is shown once at creation and never stored."""
    hint: Mapped[str] = mapped_column(String(16))
    """The token's prefix and first 4 random characters, so staff can tell tokens apart in listings."""
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Granted scopes, such as ``jobs:write`` and ``jobs:read``."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
