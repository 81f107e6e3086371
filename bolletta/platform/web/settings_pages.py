"""The settings pages, built once and mounted in both the console and the backoffice.

A :class:`~bolletta.platform.web.settings_area.SettingsArea` defines where the pages live, who may open
them, how the tenant and the actor are found and how a page is framed. The routes, the templates
(``settings/*.html``) and the rules (:mod:`bolletta.tenants.settings_editor`) are the same for both
areas. A platform admin edits every
field; a tenant admin sees the platform-only ones disabled, and a form that carries one anyway is
answered with 403.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import anyio
from litestar import Request, Response, Router, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException, NotFoundException, PermissionDeniedException
from litestar.params import Body, FromPath
from litestar.response import Redirect

from bolletta.platform.db.models.platform import Tenant
from bolletta.platform.errors import BollettaError, NotFound
from bolletta.platform.office.access import staff_language
from bolletta.platform.web.context import client_ip, rt
from bolletta.platform.web.message_text_pages import message_text_handlers
from bolletta.platform.web.settings_area import SettingsArea
from bolletta.platform.web.settings_image_pages import IMAGES, image_handlers, images_page
from bolletta.platform.web.templates import render
from bolletta.tenants.config import encode_config
from bolletta.tenants.onboarding.line_numbers import line_problems
from bolletta.tenants.registry import get_tenant, tenant_config
from bolletta.tenants.settings_editor.editor import (
    UNRESTORABLE,
    VERSION_INPUT,
    PlatformOnlySetting,
    Version,
    editable_fields,
    platform_only_restores,
    restore_section,
    save_section,
    section_history,
    section_of,
    section_version,
)
from bolletta.tenants.settings_editor.fields import PLATFORM_ONLY_SETTINGS, SECTION_LIST, Section
from bolletta.tenants.settings_editor.forms import form_values, shown_value, value_at

logger = logging.getLogger(__name__)

FormData = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def typed_values(section: Section, data: dict[str, str]) -> dict[str, str]:
    """Return the inputs of ``section`` as typed, to show again with their problems; secrets are never echoed."""
    typed = {}
    for name, value in data.items():
        item = section.field(name)
        if item is not None and item.kind not in ("secret", "secret_text"):
            typed[name] = value
    return typed


def version_changes(section: Section, version: Version) -> list[tuple[str, str, str]]:
    """Return (label msgid, value before, value after) of each field the version changed, as the form shows them."""
    changes = []
    for item in section.fields:
        before, after = value_at(version.before, item.path), value_at(version.after, item.path)
        if item.path.split(".", 1)[0] in version.keys and before != after:
            changes.append((item.label, shown_value(item, before), shown_value(item, after)))
    return changes


def refusal_page(request: Request[Any, Any, Any], back_url: str, status_code: int, reason: str = "",
                 fields: list[str] | None = None) -> Response[str]:
    """Render the page of a rejected settings request in the staff member's language, without the area's frame.

    It needs no tenant, so exception handlers (a failed CSRF check, a guard) can render it too.
    """
    return render(request, "settings/refused.html", status_code=status_code, language=staff_language(request),
                  code=status_code, reason=reason, fields=fields or [], back_url=back_url)


def _section(name: str) -> Section:
    try:
        return section_of(name)
    except NotFound as exc:
        raise NotFoundException(str(exc)) from exc


def _form_section(name: str) -> Section:
    """Return the section a settings form saves; the images have upload forms of their own."""
    if name == IMAGES:
        raise NotFoundException("The images are changed with their upload forms, not with a settings form.")
    return _section(name)


def _refused(request: Request[Any, Any, Any], exc: HTTPException) -> Response[str]:
    """Answer a refusal raised before a handler runs (a failed CSRF check, a guard) or for an unknown
    section or tenant with the Italian refusal page."""
    reason = "csrf" if "csrf" in str(exc.detail).lower() else ""
    logger.warning("settings: %s %s rejected with %d: %s", request.method, request.url.path, exc.status_code,
                   exc.detail)
    back_url = request.url.path.split("/settings", 1)[0] + "/settings"
    return refusal_page(request, back_url, exc.status_code, reason)


def settings_router(area: SettingsArea) -> Router:
    """Build the section list, message texts, section form, save and restore routes of ``area``."""

    def section_page(request: Request[Any, Any, Any], tenant: Tenant, section: Section, *, values: dict[str, str],
                     problems: dict[str, Any], version: str = "", status_code: int = 200) -> Response[str]:
        editable = {item.path for item in editable_fields(section, area.platform)}
        versions = section_history(rt().db, tenant.slug, section.name)
        stored = encode_config(tenant_config(get_tenant(rt().db, tenant.slug)))
        secrets_set = {item.path for item in section.fields
                       if item.kind in ("secret", "secret_text") and value_at(stored, item.path)}
        blocked = {} if area.platform else {
            version.id: [item.label for item in platform_only_restores(
                section, [key for key in version.keys if key not in UNRESTORABLE], version.before, stored)]
            for version in versions}
        return area.render(request, "settings/section.html", tenant, status_code=status_code,
                           base_template=area.base_template, settings_url=area.url(tenant), section=section,
                           editable=editable, values=values, problems=problems, versions=versions,
                           secrets_set=secrets_set, version=version or section_version(section, stored),
                           version_input=VERSION_INPUT, line_problems=line_problems(problems),
                           blocked=blocked, changes={version.id: version_changes(section, version)
                                                     for version in versions},
                           notice=request.query_params.get("notice", ""))

    @get(area.path, name=f"{area.name}:settings")
    async def index(request: Request[Any, Any, Any]) -> Response[str]:
        """List the sections of the tenant's settings."""
        tenant = await area.tenant_of(request)
        return area.render(request, "settings/index.html", tenant, base_template=area.base_template,
                           settings_url=area.url(tenant), sections=SECTION_LIST, platform=area.platform,
                           platform_only=PLATFORM_ONLY_SETTINGS)

    @get(f"{area.path}/{{section:str}}", name=f"{area.name}:settings-section")
    async def show(request: Request[Any, Any, Any], section: FromPath[str]) -> Response[str]:
        """Show one section's form with the stored values and the section's earlier versions."""
        tenant = await area.tenant_of(request)
        chosen = _section(section)
        if chosen.name == IMAGES:
            return await anyio.to_thread.run_sync(lambda: images_page(area, request, tenant, problems={}))
        plain = encode_config(tenant_config(tenant))
        return await anyio.to_thread.run_sync(
            lambda: section_page(request, tenant, chosen, values=form_values(chosen, plain), problems={}))

    @post(f"{area.path}/{{section:str}}", name=f"{area.name}:settings-save")
    async def save(request: Request[Any, Any, Any], section: FromPath[str], data: FormData) -> Response[Any]:
        """Save one section; on problems, show the form again as typed with each problem by its field."""
        tenant = await area.tenant_of(request)
        chosen = _form_section(section)
        try:
            problems = await anyio.to_thread.run_sync(
                lambda: save_section(rt(), tenant.slug, chosen.name, data, actor=area.actor_of(request),
                                     platform=area.platform, ip=client_ip(request)))
        except PlatformOnlySetting as exc:
            logger.warning("settings: %s rejected for tenant %s: %s", area.actor_of(request), tenant.slug, exc)
            return refusal_page(request, area.url(tenant), 403, "platform-only-form")
        if problems:
            plain = encode_config(tenant_config(get_tenant(rt().db, tenant.slug)))
            values = form_values(chosen, plain) | typed_values(chosen, data)
            # The form keeps the version it was filled from: after a conflict, saving again is
            # rejected again until the page is reloaded with the saved values.
            return await anyio.to_thread.run_sync(
                lambda: section_page(request, tenant, chosen, values=values, problems=problems,
                                     version=data.get(VERSION_INPUT, ""), status_code=400))
        return Redirect(f"{area.url(tenant)}/{chosen.name}?notice=saved", status_code=303)

    @post(f"{area.path}/{{section:str}}/versions/{{version:int}}", name=f"{area.name}:settings-restore")
    async def restore(request: Request[Any, Any, Any], section: FromPath[str],
                      version: FromPath[int]) -> Response[Any]:
        """Bring the section back to its values before version ``version``; the restore is a new version."""
        tenant = await area.tenant_of(request)
        chosen = _section(section)
        try:
            await anyio.to_thread.run_sync(
                lambda: restore_section(rt().db, tenant.slug, chosen.name, version, actor=area.actor_of(request),
                                        platform=area.platform, ip=client_ip(request)))
        except PlatformOnlySetting as exc:
            logger.warning("settings: %s rejected for tenant %s: %s", area.actor_of(request), tenant.slug, exc)
            return refusal_page(request, f"{area.url(tenant)}/{chosen.name}", 403, "platform-only-restore",
                                [item.label for item in exc.fields])
        except NotFound:
            return refusal_page(request, f"{area.url(tenant)}/{chosen.name}", 404, "version-not-found")
        except BollettaError as exc:
            logger.warning("settings: restoring %s of tenant %s from version %d failed: %s", chosen.name,
                           tenant.slug, version, exc)
            return Redirect(f"{area.url(tenant)}/{chosen.name}?notice=not-restored", status_code=303)
        return Redirect(f"{area.url(tenant)}/{chosen.name}?notice=restored", status_code=303)

    handlers = [index, *message_text_handlers(area), show, save, restore, *image_handlers(area)]
    return Router(path="/", guards=area.guards, route_handlers=handlers,
                  exception_handlers={PermissionDeniedException: _refused, NotFoundException: _refused})
