"""Who may do what in the backoffice, the staff member's language, and rendering a staff page.

Roles (spec section 1): a tenant admin does everything on the tenant. An operator works on jobs,
approves test batches, searches, exports and reads statistics. A viewer searches and reads
statistics. Only admins and operators see a contact in full, and that view is audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from bolletta.platform import clock
from bolletta.platform.db.models.platform import Tenant
from bolletta.platform.i18n.catalog import SUPPORTED_LANGUAGES
from bolletta.platform.jobs.approval import Staff
from bolletta.platform.office.staff import TENANT_ROLES, current_staff
from bolletta.platform.web.templates import render

ADMIN = "tenant_admin"
OPERATOR = "tenant_operator"
VIEWER = "tenant_viewer"
ACTING_ROLES = frozenset({ADMIN, OPERATOR})
"""Roles that change state (revoke, extend), export and see full contacts."""
LANGUAGE_KEY = "staff_lang"


def _guard(connection: ASGIConnection[Any, Any, Any, Any], roles: frozenset[str]) -> None:
    staff = current_staff(connection)
    if staff is None:
        raise NotAuthorizedException("Sign in first.")
    if staff.role not in TENANT_ROLES or staff.tenant is None:
        raise PermissionDeniedException("This area is for a utility's staff.")
    if staff.role not in roles:
        raise PermissionDeniedException("Your role does not allow this.")


def require_staff(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: any tenant role (searches, details, statistics)."""
    _guard(connection, TENANT_ROLES)


def require_acting(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: a tenant admin or operator (exports, revoke, extend, full contacts)."""
    _guard(connection, ACTING_ROLES)


def require_admin(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: a tenant admin (settings, audit log)."""
    _guard(connection, frozenset({ADMIN}))


def staff_of(request: Request[Any, Any, Any]) -> Staff:
    """Return the signed-in staff member; the route's guard has already admitted them."""
    staff = current_staff(request)
    assert staff is not None and staff.tenant is not None
    return staff


def may_act(staff: Staff) -> bool:
    """True for the roles that change state, export and see full contacts."""
    return staff.role in ACTING_ROLES


def staff_language(request: Request[Any, Any, Any]) -> str:
    """Return the language the staff member chose for the backoffice; Italian by default."""
    language = (request.session or {}).get(LANGUAGE_KEY)
    return language if language in SUPPORTED_LANGUAGES else "it"


def page(request: Request[Any, Any, Any], template: str, tenant: Tenant, *, status_code: int = 200,
         **context: Any) -> Response[str]:
    """Render a staff page in the staff member's language, with the menu's context."""
    staff = staff_of(request)
    return render(request, template, status_code=status_code, language=staff_language(request), staff=staff,
                  tenant=tenant, may_act=may_act(staff), expired=expired, **context)


def expired(moment: datetime) -> bool:
    """True when ``moment`` (an expiry) is past; SQLite's naive datetimes are read as UTC."""
    return clock.as_utc(moment) <= clock.now()
