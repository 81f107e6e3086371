"""The utility's settings in the backoffice, for tenant admins; platform-only fields are read-only."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router

from bolletta.platform.db.models.platform import Tenant
from bolletta.platform.office.access import page, require_admin, staff_of
from bolletta.platform.office.routes import _tenant
from bolletta.platform.web.settings_pages import SettingsArea, settings_router


async def _own_tenant(request: Request[Any, Any, Any]) -> Tenant:
    """Return the signed-in admin's own tenant; the backoffice never takes a tenant from the URL."""
    return await _tenant(staff_of(request))


OFFICE_SETTINGS = SettingsArea(
    name="office", path="/office/settings", guards=[require_admin], platform=False, tenant_of=_own_tenant,
    actor_of=lambda request: staff_of(request).actor, render=page, base_template="office/base.html",
)


def office_settings_router() -> Router:
    """Build the backoffice's settings pages."""
    return settings_router(OFFICE_SETTINGS)
