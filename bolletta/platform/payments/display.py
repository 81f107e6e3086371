"""Facts about a tenant's gateways that customer pages show without building the gateways."""

from __future__ import annotations

from urllib.parse import urlsplit

import msgspec

from bolletta.platform.errors import ConfigurationError
from bolletta.platform.payments.gateways import gateway_class
from bolletta.tenants.config import TenantConfig


def test_mode_gateways(config: TenantConfig) -> list[str]:
    """Return the names of the tenant's enabled gateways whose settings turn test mode on."""
    names = []
    for gateway_id in config.enabled_gateways:
        try:
            plugin = gateway_class(gateway_id)
        except ConfigurationError:
            continue
        defaults = {field.name: field.default for field in msgspec.structs.fields(plugin.Settings)}
        stored = config.gateway_settings.get(gateway_id, {})
        if stored.get("test_mode", defaults.get("test_mode", False)) is True:
            names.append(plugin.name)
    return names


def form_action_origins(config: TenantConfig) -> list[str]:
    """Return the origins the pay form may lead to: each enabled gateway's hosted pages.

    A tenant whose settings point a gateway at another API host (tests, a provider's regional
    host) gets that host's origin too.
    """
    origins: list[str] = []
    for gateway_id in config.enabled_gateways:
        try:
            plugin = gateway_class(gateway_id)
        except ConfigurationError:
            continue
        origins.extend(plugin.hosted_page_origins)
        configured = str(config.gateway_settings.get(gateway_id, {}).get("api_base_url", ""))
        parts = urlsplit(configured)
        if parts.scheme in ("http", "https") and parts.netloc:
            origins.append(f"{parts.scheme}://{parts.netloc}")
    return sorted(set(origins))
