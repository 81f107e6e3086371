"""Per-tenant colours as a stylesheet, so pages need no inline styles under the CSP."""

from __future__ import annotations

import re

import anyio
from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from bolletta.platform.storage import tenant_key
from bolletta.platform.web.context import active_tenant, rt
from bolletta.tenants.config import decode_config
from bolletta.themes.fonts import FONTS, UNICODE_RANGE, woff2

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{3,8}$")


def _colour(value: str, fallback: str) -> str:
    return value if HEX_COLOUR.match(value) else fallback


@get("/c/{slug:str}/theme.css", name="portal:theme")
async def tenant_theme(slug: FromPath[str]) -> Response[str]:
    """CSS custom properties with the tenant's branding colours, and its font when it chose one."""
    tenant = await active_tenant(slug)
    if tenant is None:
        raise NotFoundException()
    config = decode_config(tenant.settings)
    branding = config.branding
    css = (
        ":root{"
        f"--brand:{_colour(branding.primary_color, '#0b4f8a')};"
        f"--brand-accent:{_colour(branding.accent_color, '#f2a900')};"
        f"--on-brand:{_colour(branding.text_on_primary, '#ffffff')};"
        "}\n"
    )
    font = FONTS.get(config.portal.font)
    if font is not None and font.package is not None:
        css += (
            f'@font-face{{font-family:"{font.family}";src:url("/c/{slug}/font.woff2") format("woff2");'
            f"font-display:swap;unicode-range:{UNICODE_RANGE};}}\n"
            f'body{{font-family:"{font.family}",system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;}}\n'
        )
    return Response(content=css, media_type="text/css", headers={"Cache-Control": "max-age=300"})


@get("/c/{slug:str}/font.woff2", name="portal:font")
async def tenant_font(slug: FromPath[str]) -> Response[bytes]:
    """The tenant's font as a Latin subset in WOFF2, from the installed font package."""
    tenant = await active_tenant(slug)
    font_id = decode_config(tenant.settings).portal.font if tenant is not None else ""
    if font_id not in FONTS or FONTS[font_id].package is None:
        raise NotFoundException()
    content = await anyio.to_thread.run_sync(woff2, font_id, rt().settings.data_path / "cache" / "fonts")
    return Response(content=content, media_type="font/woff2", headers={"Cache-Control": "public, max-age=86400"})


@get("/c/{slug:str}/logo", name="portal:logo")
async def tenant_logo(slug: FromPath[str]) -> Response[bytes]:
    """Serve the tenant's current logo (uploaded in the wizard or the settings) as PNG or JPEG from its storage."""
    from bolletta.tenants.images import image_type, logo_key

    tenant = await active_tenant(slug)
    config = decode_config(tenant.settings) if tenant is not None else None
    if config is None or not config.portal.logo_url:  # a removed logo is no longer served
        raise NotFoundException()
    key = logo_key(config)
    try:
        content = await anyio.to_thread.run_sync(rt().storage.get, tenant_key(slug, key))
    except FileNotFoundError as exc:
        raise NotFoundException() from exc
    content_type, problem = image_type(content)
    if problem is not None:
        raise NotFoundException()
    return Response(content=content, media_type=content_type, headers={"Cache-Control": "max-age=300"})
