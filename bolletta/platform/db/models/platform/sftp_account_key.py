from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bolletta.platform.db.base import PlatformBase


class SftpAccountKey(PlatformBase):
    """An SSH public key that may log in as one SFTP account, and only that account."""

    __tablename__ = "sftp_account_keys"
    __table_args__ = (UniqueConstraint("account_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("sftp_accounts.id", ondelete="CASCADE"), index=True)
    key_type: Mapped[str] = mapped_column(String(60))
    """SSH key type name, e.g. ``ssh-ed25519``."""
    public_key: Mapped[str] = mapped_column(Text)
    """The key's base64 blob as in an OpenSSH ``authorized_keys`` line, without type and comment."""
    fingerprint: Mapped[str] = mapped_column(String(100))
    """OpenSSH SHA-256 fingerprint, ``SHA256:`` followed by unpadded base64."""
    comment: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
