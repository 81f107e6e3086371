"""The console's tenants: every tenant with its health, one tenant's plugins, and its audit log."""

from __future__ import annotations

from typing import Any

import anyio
from litestar import Request, Response, Router, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from bolletta.platform.admin.access import admin_page, require_platform_admin
from bolletta.platform.admin.health import every_tenant_health, tenant_health
from bolletta.platform.admin.plugins import catalogue
from bolletta.platform.errors import NotFound
from bolletta.platform.office.admin import search_tenant_audit
from bolletta.platform.office.listing import Query, link, read_paging
from bolletta.platform.web.context import rt
from bolletta.tenants.registry import get_tenant, tenant_config

TENANT_AUDIT_FIELDS = ("action", "actor", "date_from", "date_to")


@get(["/admin/", "/admin/tenants"], name="admin:tenants", guards=[require_platform_admin])
async def tenants_page(request: Request[Any, Any, Any]) -> Response[str]:
    """List every tenant with its status and health (the console's landing page)."""
    rows = await anyio.to_thread.run_sync(every_tenant_health, rt())
    return admin_page(request, "admin/tenants.html", rows=rows)


def _tenant_detail(slug: str) -> dict[str, Any]:
    try:
        tenant = get_tenant(rt().db, slug)
    except NotFound as exc:
        raise NotFoundException(str(exc)) from exc
    config = tenant_config(tenant)
    enabled = {"channel": set(config.enabled_channels), "gateway": set(config.enabled_gateways)}
    plugins = [entry | {"enabled": entry["id"] in enabled[entry["kind"]]} for entry in catalogue() if entry["loaded"]]
    return {"tenant": tenant, "health": tenant_health(rt(), tenant), "plugins": plugins,
            "channel_plugins": config.channel_plugins}


@get("/admin/tenants/{slug:str}", name="admin:tenant", guards=[require_platform_admin])
async def tenant_page(request: Request[Any, Any, Any], slug: FromPath[str]) -> Response[str]:
    """Render one tenant's health and every loaded plugin with a switch to enable it for the tenant."""
    context = await anyio.to_thread.run_sync(_tenant_detail, slug)
    return admin_page(request, "admin/tenant.html", **context)


@get("/admin/tenants/{slug:str}/audit", name="admin:tenant-audit", guards=[require_platform_admin])
async def tenant_audit_page(request: Request[Any, Any, Any], slug: FromPath[str]) -> Response[str]:
    """Read one tenant's audit log, filtered by action, actor and date like the tenant admin's page."""
    try:
        tenant = await anyio.to_thread.run_sync(get_tenant, rt().db, slug)
    except NotFound as exc:
        raise NotFoundException(str(exc)) from exc
    query = Query(dict(request.query_params))
    paging = read_paging(query, ("at",), "at")
    total, rows = await search_tenant_audit(tenant.slug, query, paging)
    params = {name: query.params[name] for name in TENANT_AUDIT_FIELDS if query.params.get(name)}
    return admin_page(request, "admin/tenant_audit.html", tenant=tenant, rows=rows, total=total, paging=paging,
                      pages=paging.pages(total), params=params, link=link, errors=query.errors, filters=params)


def tenants_router() -> Router:
    """Build the tenants, tenant and tenant audit routes."""
    return Router(path="/", route_handlers=[tenants_page, tenant_page, tenant_audit_page])
