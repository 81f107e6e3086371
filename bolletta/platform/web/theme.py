"""Per-tenant colours as a stylesheet, so pages need no inline styles under the CSP."""

from __future__ import annotations

import re

from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from bolletta.platform.web.context import active_tenant
from bolletta.tenants.config import decode_config

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{3,8}$")


def _colour(value: str, fallback: str) -> str:
    return value if HEX_COLOUR.match(value) else fallback


@get("/c/{slug:str}/theme.css", name="portal:theme")
async def tenant_theme(slug: FromPath[str]) -> Response[str]:
    """CSS custom properties with the tenant's branding colours."""
    tenant = await active_tenant(slug)
    if tenant is None:
        raise NotFoundException()
    branding = decode_config(tenant.settings).branding
    css = (
        ":root{"
        f"--brand:{_colour(branding.primary_color, '#0b4f8a')};"
        f"--brand-accent:{_colour(branding.accent_color, '#f2a900')};"
        f"--on-brand:{_colour(branding.text_on_primary, '#ffffff')};"
        "}\n"
    )
    return Response(content=css, media_type="text/css", headers={"Cache-Control": "max-age=300"})
