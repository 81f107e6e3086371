"""Append-only audit log of staff actions on a tenant."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import AuditEntry


def record(
    session: Session, *, actor: str, action: str, target: str = "", user_id: int | None = None,
    detail: dict[str, Any] | None = None, ip: str = "",
) -> None:
    """Add an audit entry to the session's transaction, so it commits with the action itself."""
    session.add(
        AuditEntry(
            at=clock.now(), user_id=user_id, actor=actor, action=action, target=target,
            detail=detail or {}, ip=ip,
        )
    )
