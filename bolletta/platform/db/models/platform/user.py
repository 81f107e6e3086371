from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from bolletta.platform.db.base import PlatformBase


class User(PlatformBase):
    """A staff login: platform admin, or a tenant's admin, operator or viewer."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    """Globally unique across tenants, so a login never needs the tenant first."""
    password_hash: Mapped[str] = mapped_column(String(255))
    """Argon2id hash in PHC string form."""
    role: Mapped[str] = mapped_column(String(30))
    """``platform_admin``, ``tenant_admin``, ``tenant_operator`` or ``tenant_viewer``."""
    tenant_id: Mapped[int | None] = mapped_column(Integer, index=True)
    """The tenant of a tenant role; ``None`` for platform admins."""
    email: Mapped[str] = mapped_column(String(254), default="")
    full_name: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    totp_secret: Mapped[str | None] = mapped_column(Text)
    """The TOTP secret encrypted with the master secret (Fernet); ``None`` until the user enrols."""
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    """The 30-second TOTP time step of the last code accepted from the operator console, so each
    code signs in once; ``None`` before the first code."""
    totp_enrolment_due: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Set when a tenant admin resets the user's TOTP: the next sign-in enrols a new secret even where
    the tenant does not require TOTP."""
    sessions_revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """Sessions started before this time are over: set by sign-out, a password change and TOTP changes."""
