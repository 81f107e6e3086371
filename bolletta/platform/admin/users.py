"""The console's platform users: every platform admin, whether active and whether TOTP is set up.

A platform admin can end another platform admin's sessions (a lost laptop) or reset their TOTP
secret (a lost phone). A reset also ends their sessions, and the user enrols a new secret at the
next sign-in. Both actions are audited. Tenant staff are managed elsewhere and are not found here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio
from litestar import Request, Response, Router, get, post
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import select

from bolletta.platform import audit
from bolletta.platform.admin.access import PLATFORM_ADMIN, admin_of, admin_page, require_platform_admin
from bolletta.platform.db.models.platform import User
from bolletta.platform.errors import NotFound
from bolletta.platform.jobs.approval import Staff
from bolletta.platform.office.staff import end_sessions
from bolletta.platform.runtime import Runtime
from bolletta.platform.web.context import rt

logger = logging.getLogger(__name__)

USER_ACTIONS = ("end-sessions", "reset-totp")


@dataclass(frozen=True)
class PlatformUser:
    """A platform user as the page lists it; the TOTP secret itself never leaves the database."""

    id: int
    username: str
    full_name: str
    email: str
    role: str
    active: bool
    totp: bool
    """Whether the user has enrolled a TOTP secret."""
    last_login_at: datetime | None


def platform_users(runtime: Runtime) -> list[PlatformUser]:
    """Return the platform admins (the users without a tenant), by username."""
    with runtime.db.platform_session() as session:
        users = session.scalars(select(User).where(User.role == PLATFORM_ADMIN).order_by(User.username))
        return [PlatformUser(id=u.id, username=u.username, full_name=u.full_name, email=u.email, role=u.role,
                             active=u.active, totp=bool(u.totp_secret), last_login_at=u.last_login_at)
                for u in users]


@get("/admin/users", name="admin:users", guards=[require_platform_admin])
async def users_page(request: Request[Any, Any, Any]) -> Response[str]:
    """List the platform users with their role and TOTP status."""
    users = await anyio.to_thread.run_sync(platform_users, rt())
    return admin_page(request, "admin/users.html", users=users, done=request.query_params.get("done"))


def act_on_user(runtime: Runtime, staff: Staff, user_id: int, action: str) -> str:
    """End the sessions of platform admin ``user_id`` or reset their TOTP secret; return their username.

    Raises:
        NotFound: no platform admin has this id.
    """
    with runtime.db.platform_session() as session:
        user = session.get(User, user_id)
        if user is None or user.role != PLATFORM_ADMIN:
            raise NotFound(f"Platform user #{user_id} not found.")
        if action == "reset-totp":
            user.totp_secret = None
            user.totp_last_step = None
        audit.record_platform(session, actor=staff.actor, user_id=staff.user_id,
                              action="user.reset_totp" if action == "reset-totp" else "user.end_sessions",
                              detail={"user": user.username}, ip=staff.ip)
        session.commit()
        username = user.username
    end_sessions(runtime.db, user_id)
    logger.info("admin: %s of platform user %s by %s", action, username, staff.username)
    return username


@post("/admin/users/{user_id:int}/{action:str}", name="admin:user-action", guards=[require_platform_admin])
async def user_action(request: Request[Any, Any, Any], user_id: FromPath[int], action: FromPath[str]) -> Response[Any]:
    """End a platform admin's sessions (``end-sessions``) or reset their TOTP secret (``reset-totp``)."""
    if action not in USER_ACTIONS:
        raise ValidationException(f"Unknown action {action!r}: use one of {', '.join(USER_ACTIONS)}.")
    try:
        await anyio.to_thread.run_sync(act_on_user, rt(), admin_of(request), user_id, action)
    except NotFound as exc:
        raise NotFoundException(str(exc)) from exc
    return Redirect(f"/admin/users?done={action}", status_code=303)


def users_router() -> Router:
    """Build the platform users routes."""
    return Router(path="/", route_handlers=[users_page, user_action])
