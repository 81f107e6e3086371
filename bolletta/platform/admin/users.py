"""The console's platform users: every platform admin, whether active and whether TOTP is set up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio
from litestar import Request, Response, Router, get
from sqlalchemy import select

from bolletta.platform.admin.access import PLATFORM_ADMIN, admin_page, require_platform_admin
from bolletta.platform.db.models.platform import User
from bolletta.platform.runtime import Runtime
from bolletta.platform.web.context import rt


@dataclass(frozen=True)
class PlatformUser:
    """A platform user as the page lists it; the TOTP secret itself never leaves the database."""

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
        return [PlatformUser(username=u.username, full_name=u.full_name, email=u.email, role=u.role, active=u.active,
                             totp=bool(u.totp_secret), last_login_at=u.last_login_at) for u in users]


@get("/admin/users", name="admin:users", guards=[require_platform_admin])
async def users_page(request: Request[Any, Any, Any]) -> Response[str]:
    """List the platform users with their role and TOTP status."""
    users = await anyio.to_thread.run_sync(platform_users, rt())
    return admin_page(request, "admin/users.html", users=users)


def users_router() -> Router:
    """Build the platform users route."""
    return Router(path="/", route_handlers=[users_page])
