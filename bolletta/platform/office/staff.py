"""The signed-in staff member, kept in the encrypted session cookie."""

from __future__ import annotations

import threading
import time
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy import select, update

from bolletta.platform import clock
from bolletta.platform.db.database import Database
from bolletta.platform.db.models.platform import Tenant, User
from bolletta.platform.jobs.approval import Staff
from bolletta.platform.web.context import client_ip, rt

STAFF_IDLE_LIMIT_SECONDS = 8 * 60 * 60
TENANT_ROLES = frozenset({"tenant_admin", "tenant_operator", "tenant_viewer"})


REVOCATION_CACHE_SECONDS = 5.0
"""How long a process trusts its last reading of a user's revocation time; sign-out and password
changes in this process take effect at once, those in other processes within this delay."""

_revocations: dict[int, tuple[float, float | None, bool]] = {}
_revocations_lock = threading.Lock()


def sign_in(request: Request[Any, Any, Any], user: User, tenant: Tenant | None) -> None:
    """Start a fresh staff session (a new cookie, so no earlier session data survives)."""
    now = clock.now().timestamp()
    request.set_session({
        "staff": {
            "id": user.id, "username": user.username, "role": user.role,
            "tenant": tenant.slug if tenant else None, "name": user.full_name or user.username,
        },
        "staff_seen": int(now),
        "staff_since": now,
    })


def end_sessions(db: Database, user_id: int) -> None:
    """End every session of the user: a session cookie taken before now no longer signs anyone in."""
    now = clock.now()
    with db.platform_session() as session:
        session.execute(update(User).where(User.id == user_id).values(sessions_revoked_at=now))
        session.commit()
    with _revocations_lock:
        _revocations.pop(user_id, None)


def _revoked_at(db: Database, user_id: int) -> tuple[float | None, bool]:
    """Return the user's revocation time (epoch seconds) and whether the account is active."""
    with _revocations_lock:
        cached = _revocations.get(user_id)
    if cached is not None and time.monotonic() - cached[0] < REVOCATION_CACHE_SECONDS:
        return cached[1], cached[2]
    with db.platform_session() as session:
        row = session.execute(select(User.sessions_revoked_at, User.active).where(User.id == user_id)).first()
    revoked = clock.as_utc(row[0]).timestamp() if row is not None and row[0] is not None else None
    active = bool(row is not None and row[1])
    with _revocations_lock:
        _revocations[user_id] = (time.monotonic(), revoked, active)
    return revoked, active


def current_staff(request: ASGIConnection[Any, Any, Any, Any]) -> Staff | None:
    """The signed-in staff member, or ``None`` when absent or idle too long."""
    session = request.session or {}
    data = session.get("staff")
    seen = session.get("staff_seen")
    if not isinstance(data, dict) or not isinstance(seen, int):
        return None
    if clock.now().timestamp() - seen > STAFF_IDLE_LIMIT_SECONDS:
        return None
    since = session.get("staff_since")
    revoked, active = _revoked_at(rt().db, data["id"])
    if not active or not isinstance(since, int | float) or (revoked is not None and since <= revoked):
        return None
    return Staff(user_id=data["id"], username=data["username"], role=data["role"], tenant=data["tenant"],
                 ip=client_ip(request))  # type: ignore[arg-type]


def require_tenant_staff(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: a signed-in member of a tenant's staff."""
    staff = current_staff(connection)
    if staff is None:
        raise NotAuthorizedException("Sign in first.")
    if staff.role not in TENANT_ROLES or staff.tenant is None:
        raise PermissionDeniedException("This area is for a utility's staff.")
