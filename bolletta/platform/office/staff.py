"""The signed-in staff member, kept in the encrypted session cookie."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from bolletta.platform import clock
from bolletta.platform.db.models.platform import Tenant, User
from bolletta.platform.jobs.approval import Staff
from bolletta.platform.web.context import client_ip

STAFF_IDLE_LIMIT_SECONDS = 8 * 60 * 60
TENANT_ROLES = frozenset({"tenant_admin", "tenant_operator", "tenant_viewer"})


def sign_in(request: Request[Any, Any, Any], user: User, tenant: Tenant | None) -> None:
    """Start a fresh staff session (a new cookie, so no earlier session data survives)."""
    request.set_session({
        "staff": {
            "id": user.id, "username": user.username, "role": user.role,
            "tenant": tenant.slug if tenant else None, "name": user.full_name or user.username,
        },
        "staff_seen": int(clock.now().timestamp()),
    })


def current_staff(request: ASGIConnection[Any, Any, Any, Any]) -> Staff | None:
    """The signed-in staff member, or ``None`` when absent or idle too long."""
    session = request.session or {}
    data = session.get("staff")
    seen = session.get("staff_seen")
    if not isinstance(data, dict) or not isinstance(seen, int):
        return None
    if clock.now().timestamp() - seen > STAFF_IDLE_LIMIT_SECONDS:
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
