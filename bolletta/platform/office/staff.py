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

STAFF_SESSION_LIMIT_SECONDS = 8 * 60 * 60
"""Absolute lifetime of a staff session, counted from sign-in whatever the activity."""
SEEN_REFRESH_SECONDS = 60
"""Activity younger than this does not move ``staff_seen``, so most requests leave the session data
unchanged. The idle limit may therefore end a session up to this much earlier than configured."""
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


def sign_out_here(request: Request[Any, Any, Any]) -> None:
    """Drop the staff keys from this browser's session; a customer session in the same browser stays."""
    remaining = {key: value for key, value in (request.session or {}).items() if not key.startswith("staff")}
    request.set_session(remaining)


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


def _session_expired(now: float, seen: int, since: float, idle_limit: int) -> bool:
    return now - seen > idle_limit or now - since > STAFF_SESSION_LIMIT_SECONDS


def current_staff(request: ASGIConnection[Any, Any, Any, Any]) -> Staff | None:
    """Return the signed-in staff member, or ``None`` when absent, idle too long or past the 8 hours.

    A valid session's last activity time moves to now when it is older than
    :data:`SEEN_REFRESH_SECONDS`, which restarts the idle count.
    """
    session = request.session or {}
    data = session.get("staff")
    seen = session.get("staff_seen")
    since = session.get("staff_since")
    if not isinstance(data, dict) or not isinstance(seen, int) or not isinstance(since, int | float):
        return None
    runtime = rt()
    now = clock.now().timestamp()
    if _session_expired(now, seen, since, runtime.settings.staff_idle_timeout_seconds):
        return None
    revoked, active = _revoked_at(runtime.db, data["id"])
    if not active or (revoked is not None and since <= revoked):
        return None
    if now - seen >= SEEN_REFRESH_SECONDS:
        request.set_session({**session, "staff_seen": int(now)})
    return Staff(user_id=data["id"], username=data["username"], role=data["role"], tenant=data["tenant"],
                 ip=client_ip(request))  # type: ignore[arg-type]


def require_tenant_staff(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: a signed-in member of a tenant's staff."""
    staff = current_staff(connection)
    if staff is None:
        raise NotAuthorizedException("Sign in first.")
    if staff.role not in TENANT_ROLES or staff.tenant is None:
        raise PermissionDeniedException("This area is for a utility's staff.")
