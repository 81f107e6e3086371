"""Request helpers shared by the web areas: runtime, tenant lookup, client address."""

from __future__ import annotations

from typing import Any

from litestar import Request
from sqlalchemy import select

from bolletta.platform import runtime
from bolletta.platform.db.models.platform import Tenant
from bolletta.platform.runtime import Runtime


def rt() -> Runtime:
    """Return the configured runtime."""
    return runtime.current()


async def active_tenant(slug: str) -> Tenant | None:
    """Return the active tenant with ``slug``, or ``None``."""
    async with rt().db.platform_async_session() as session:
        return await session.scalar(select(Tenant).where(Tenant.slug == slug, Tenant.status == "active"))


def client_ip(request: Request[Any, Any, Any]) -> str:
    """Return the client's address: the peer's, or the one a trusted proxy forwarded.

    ``bolletta serve`` rewrites the peer address from ``X-Forwarded-For`` only when the request comes
    from an address in ``BOLLETTA_TRUSTED_PROXIES`` (uvicorn's proxy-headers middleware).
    """
    return request.client.host if request.client else ""
