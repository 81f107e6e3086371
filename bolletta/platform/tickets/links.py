"""The customer-facing URL of a ticket."""

from __future__ import annotations

from bolletta.platform.settings import Settings
from bolletta.tenants.config import TenantConfig


def customer_base_url(settings: Settings, tenant: str, config: TenantConfig) -> str:
    """Base URL of the tenant's customer pages, without a trailing slash.

    With the path prefix on (demo, development, tests) it is ``<public base URL>/c/<slug>``;
    otherwise the tenant's own link domain over HTTPS.
    """
    if settings.tenant_path_prefix or not config.link_domain:
        return f"{settings.public_base_url.rstrip('/')}/c/{tenant}"
    return f"https://{config.link_domain}"


def ticket_link(settings: Settings, tenant: str, config: TenantConfig, token: str) -> str:
    """The personal link sent in a message: ``<customer base>/t/<token>``."""
    return f"{customer_base_url(settings, tenant, config)}/t/{token}"
