"""Append-only audit logs: staff actions on a tenant, and platform admins' actions on the platform."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bolletta.platform import clock
from bolletta.platform.db.models.platform import PlatformAuditEntry
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


def record_platform(
    session: Session, *, actor: str, action: str, target: str = "", user_id: int | None = None,
    detail: dict[str, Any] | None = None, ip: str = "",
) -> None:
    """Add a platform audit entry (a platform admin's action) to a platform session's transaction.

    An action on one tenant names the tenant's slug as ``target``, so the audit page can filter by it.
    """
    session.add(
        PlatformAuditEntry(
            at=clock.now(), user_id=user_id, actor=actor, action=action, target=target,
            detail=detail or {}, ip=ip,
        )
    )
