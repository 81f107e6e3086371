from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bolletta.platform.db.base import PlatformBase


class LoginFailure(PlatformBase):
    """Recent failed staff sign-ins of one username from every address, and the slowdown they caused."""

    __tablename__ = "login_failures"

    username: Mapped[str] = mapped_column(String(150), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    first_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """Until when every sign-in of the username waits, once its failures pass the slowdown threshold."""


class LoginSourceFailure(PlatformBase):
    """Recent failed staff sign-ins of one username from one client address, and the lock they caused."""

    __tablename__ = "login_source_failures"

    username: Mapped[str] = mapped_column(String(150), primary_key=True)
    client_ip: Mapped[str] = mapped_column(String(45), primary_key=True)
    """The address as :func:`bolletta.platform.web.context.client_ip` returns it (IPv6 fits in 45)."""
    failures: Mapped[int] = mapped_column(Integer)
    first_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
