"""Which area and tenant a request is for, decided from its host before routing.

Litestar has no host-based routing and applies its own middleware after routing, so this is an
outer ASGI wrapper. Customer pages answer on a tenant's link domain (the path is rewritten to the
internal ``/c/<slug>/...`` form) or, when ``BOLLETTA_TENANT_PATH_PREFIX`` is on, under
``/c/<slug>/`` directly. Backoffice, admin, API and provider callbacks answer only on the platform
host. Anything else gets 404.
"""

from __future__ import annotations

import time
from typing import Any

from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy import select

from bolletta.platform.db.database import check_slug
from bolletta.platform.db.models.platform import Tenant
from bolletta.platform.errors import ConfigurationError
from bolletta.platform.logs import log_context
from bolletta.platform.runtime import Runtime
from bolletta.tenants.config import decode_config

PLATFORM_AREAS = ("/office", "/admin", "/api", "/hooks", "/static", "/healthz", "/health/", "/metrics")
CUSTOMER_AREAS = ("/t/", "/b/", "/theme.css", "/font.woff2", "/sandbox/", "/nuovo-link")
DOMAIN_CACHE_SECONDS = 30.0


class TenancyRouter:
    """ASGI wrapper that enforces areas per host and maps link domains to tenants."""

    def __init__(self, app: ASGIApp, rt: Runtime) -> None:
        self.app = app
        self.rt = rt
        self._domains: dict[str, str] = {}
        self._loaded_at = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = _host(scope)
        path: str = scope["path"]
        settings = self.rt.settings
        on_platform_host = settings.tenant_path_prefix or host == settings.platform_host.lower()
        if path.startswith(("/static/", "/healthz", "/health/")):
            await self.app(scope, receive, send)
            return
        if path.startswith("/c/"):
            if settings.tenant_path_prefix:
                with log_context(tenant=_valid_slug(path.split("/")[2])):
                    await self.app(scope, receive, send)
                return
            # On a tenant's link domain, its pages link to each other as /c/<its slug>/...; any other
            # tenant's slug stays unreachable there.
            slug = None if on_platform_host else (await self._link_domains()).get(host)
            if slug is not None and path.startswith(f"/c/{slug}/"):
                with log_context(tenant=slug):
                    await self.app(scope, receive, send)
                return
        elif on_platform_host and path.startswith(PLATFORM_AREAS):
            await self.app(scope, receive, send)
            return
        elif not on_platform_host and path.startswith(CUSTOMER_AREAS):
            slug = (await self._link_domains()).get(host)
            if slug is not None:
                internal = f"/c/{slug}{path}"
                rewritten: Any = dict(scope, path=internal, raw_path=internal.encode())
                with log_context(tenant=slug):
                    await self.app(rewritten, receive, send)
                return
        await _not_found(send)

    async def _link_domains(self) -> dict[str, str]:
        if time.monotonic() - self._loaded_at > DOMAIN_CACHE_SECONDS:
            async with self.rt.db.platform_async_session() as session:
                rows = (await session.execute(select(Tenant.slug, Tenant.settings))).all()
            self._domains = {
                decode_config(row.settings).link_domain.lower(): row.slug
                for row in rows
                if decode_config(row.settings).link_domain
            }
            self._loaded_at = time.monotonic()
        return self._domains


def _valid_slug(candidate: str) -> str | None:
    """Return ``candidate`` when it has a slug's shape, so arbitrary path text never reaches the logs."""
    try:
        return check_slug(candidate)
    except ConfigurationError:
        return None


def _host(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"host":
            return str(value.decode("latin-1")).lower()
    return ""


async def _not_found(send: Send) -> None:
    body = b"Not found"
    start: Any = {
        "type": "http.response.start",
        "status": 404,
        "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())],
    }
    await send(start)
    end: Any = {"type": "http.response.body", "body": body}
    await send(end)
