"""A tenant's settings in the operator console, where the platform admin may change every field."""

from __future__ import annotations

from typing import Any

import anyio
from litestar import Request, Response, Router
from litestar.exceptions import NotFoundException

from bolletta.platform.admin.access import admin_of, admin_page, require_platform_admin
from bolletta.platform.db.models.platform import Tenant
from bolletta.platform.errors import NotFound
from bolletta.platform.web.context import rt
from bolletta.platform.web.settings_pages import SettingsArea, settings_router
from bolletta.tenants.registry import get_tenant


async def _tenant(request: Request[Any, Any, Any]) -> Tenant:
    try:
        return await anyio.to_thread.run_sync(get_tenant, rt().db, str(request.path_params["slug"]))
    except NotFound as exc:
        raise NotFoundException(str(exc)) from exc


def _render(request: Request[Any, Any, Any], template: str, tenant: Tenant, *, status_code: int = 200,
            **context: Any) -> Response[str]:
    return admin_page(request, template, status_code=status_code, tenant=tenant, **context)


CONSOLE_SETTINGS = SettingsArea(
    name="admin", path="/admin/tenants/{slug:str}/settings", guards=[require_platform_admin], platform=True,
    tenant_of=_tenant, actor_of=lambda request: admin_of(request).actor, render=_render,
    base_template="admin/base.html",
)


def tenant_settings_router() -> Router:
    """Build the console's settings pages of one tenant."""
    return settings_router(CONSOLE_SETTINGS)
