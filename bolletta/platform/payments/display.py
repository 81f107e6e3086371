"""Facts about a tenant's gateways that customer pages show without building the gateways."""

from __future__ import annotations

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
