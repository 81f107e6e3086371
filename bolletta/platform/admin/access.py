"""Who may use the operator console, and rendering its pages.

Only platform admins (role ``platform_admin``, no tenant) pass :func:`require_platform_admin`. They
sign in at ``/admin/login`` with a password and a TOTP code. The session is the staff session the
backoffice uses too, so a tenant's staff signed in there get 403 here. Visitors without a session
are redirected to the console's sign-in page.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from bolletta.platform.jobs.approval import Staff
from bolletta.platform.office.access import staff_language
from bolletta.platform.office.staff import current_staff
from bolletta.platform.web.templates import render

PLATFORM_ADMIN = "platform_admin"


def require_platform_admin(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: admit a signed-in platform admin; raise 403 for other staff and 401 without a session."""
    staff = current_staff(connection)
    if staff is None:
        raise NotAuthorizedException("Sign in first.")
    if staff.role != PLATFORM_ADMIN or staff.tenant is not None:
        raise PermissionDeniedException("This area is for the platform operator.")


def admin_of(request: Request[Any, Any, Any]) -> Staff:
    """Return the signed-in platform admin; the route's guard has already admitted them."""
    staff = current_staff(request)
    assert staff is not None and staff.role == PLATFORM_ADMIN
    return staff


def admin_page(request: Request[Any, Any, Any], template: str, *, status_code: int = 200,
               **context: Any) -> Response[str]:
    """Render a console page (``admin/...``) in the admin's language, with the menu of ``admin/base.html``."""
    return render(request, template, status_code=status_code, language=staff_language(request),
                  admin=admin_of(request), **context)
