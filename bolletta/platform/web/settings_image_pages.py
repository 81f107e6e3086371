"""The images page of the settings: replacing or removing the logo and the e-mail header image.

Each upload is a multipart form of its own with the CSRF token, checked and stored by
:mod:`bolletta.tenants.settings_editor.uploads` as the onboarding wizard checks and stores it.
Tenant admins and platform admins may both change the images: no image is a platform-only setting.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER
from litestar.types import RouteHandlerType

from bolletta.platform.db.models.platform import Tenant
from bolletta.platform.i18n.message import T_, Text
from bolletta.platform.office.access import staff_language
from bolletta.platform.storage import tenant_key
from bolletta.platform.web.context import client_ip, rt
from bolletta.platform.web.image_upload import ImageForm, read_image_form
from bolletta.platform.web.settings_area import SettingsArea
from bolletta.tenants.images import MAX_IMAGE_BYTES, image_type, logo_key, too_large_problem
from bolletta.tenants.registry import get_tenant, tenant_config
from bolletta.tenants.settings_editor.editor import section_history
from bolletta.tenants.settings_editor.fields import SECTIONS
from bolletta.tenants.settings_editor.uploads import IMAGE_SETTINGS, remove_image, replace_image

logger = logging.getLogger(__name__)

IMAGES = "images"
"""The section whose page contains the upload forms of the logo and the e-mail header image."""
UPLOADS = "uploads"
"""Path segment of the upload and preview routes. It differs from ``images`` because Litestar does not
fall back from a static segment to ``{section}``, so ``images/...`` routes would hide the section page."""


def images_page(area: SettingsArea, request: Request[Any, Any, Any], tenant: Tenant, *, problems: dict[str, Text],
                status_code: int = 200) -> Response[str]:
    """Render the images page, with each upload's problem (keyed ``logo`` or ``email-header``) by its form."""
    config = tenant_config(get_tenant(rt().db, tenant.slug))
    return area.render(request, "settings/images.html", tenant, status_code=status_code,
                       base_template=area.base_template, settings_url=area.url(tenant), section=SECTIONS[IMAGES],
                       logo_url=config.portal.logo_url, header_set=bool(config.email_header_key),
                       versions=section_history(rt().db, tenant.slug, IMAGES), problems=problems,
                       notice=request.query_params.get("notice", ""))


def _upload_problem(submitted: ImageForm, language: str) -> Text | None:
    """Return what is wrong with an upload before its content is checked: no file, or one too large."""
    if submitted.size > MAX_IMAGE_BYTES:
        return too_large_problem(submitted.size, language)
    if not submitted.data:
        return T_("Choose a PNG or JPEG file to upload.")
    return None


def image_handlers(area: SettingsArea) -> list[RouteHandlerType]:
    """Build the upload and preview routes of the images page of ``area``."""

    @post(f"{area.path}/{UPLOADS}/{{image:str}}", name=f"{area.name}:settings-image")
    async def upload_image(request: Request[Any, Any, Any], image: FromPath[str]) -> Response[Any]:
        """Replace the logo or the e-mail image with an uploaded file, or remove it (``remove=1``)."""
        tenant = await area.tenant_of(request)
        if image not in IMAGE_SETTINGS:
            raise NotFoundException(f"{image!r} is not an image of the settings; use {' or '.join(IMAGE_SETTINGS)}.")
        submitted = await read_image_form(request)
        actor, ip = area.actor_of(request), client_ip(request)
        url = f"{area.url(tenant)}/{IMAGES}"
        if submitted.remove:
            await anyio.to_thread.run_sync(lambda: remove_image(rt().db, tenant.slug, image, actor=actor, ip=ip))
            return Redirect(f"{url}?notice=removed", status_code=HTTP_303_SEE_OTHER)
        problem = _upload_problem(submitted, staff_language(request))
        if problem is None:
            problem = await anyio.to_thread.run_sync(
                lambda: replace_image(rt().db, rt().storage, tenant.slug, image, submitted.data, actor=actor, ip=ip))
        if problem is None:
            return Redirect(f"{url}?notice=saved", status_code=HTTP_303_SEE_OTHER)
        logger.info("settings: %s upload for tenant %s rejected (%d bytes)", image, tenant.slug, submitted.size)
        return await anyio.to_thread.run_sync(
            lambda: images_page(area, request, tenant, problems={image: problem}, status_code=400))

    @get(f"{area.path}/{UPLOADS}/{{image:str}}", name=f"{area.name}:settings-image-preview")
    async def preview_image(request: Request[Any, Any, Any], image: FromPath[str]) -> Response[bytes]:
        """Return the logo or e-mail image in use, for the images page's preview."""
        tenant = await area.tenant_of(request)
        config = tenant_config(tenant)
        if image not in IMAGE_SETTINGS:
            raise NotFoundException(f"{image!r} is not an image of the settings; use {' or '.join(IMAGE_SETTINGS)}.")
        key = config.email_header_key
        if image == "logo":
            key = logo_key(config) if config.portal.logo_url else ""
        if not key:
            raise NotFoundException(f"Tenant {tenant.slug!r} has no {image} image.")
        try:
            content = await anyio.to_thread.run_sync(rt().storage.get, tenant_key(tenant.slug, key))
        except FileNotFoundError as exc:
            raise NotFoundException(f"The stored image {key} is missing.") from exc
        content_type, problem = image_type(content)
        if problem is not None:
            raise NotFoundException(f"The stored image {key} is not a PNG or JPEG.")
        return Response(content=content, media_type=content_type, headers={"Cache-Control": "no-store"})

    return [upload_image, preview_image]
