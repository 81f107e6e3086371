"""Instantiating a tenant's gateway plugin."""

from __future__ import annotations

from bolletta.gateways.base import Gateway, GatewayContext
from bolletta.platform.errors import ConfigurationError
from bolletta.platform.plugins import load_plugins
from bolletta.platform.runtime import Runtime
from bolletta.tenants.config import TenantConfig


def gateway_for(rt: Runtime, tenant: str, config: TenantConfig, gateway_id: str) -> Gateway:
    """Build the tenant's enabled gateway ``gateway_id`` with its settings.

    Raises:
        ConfigurationError: the gateway is not enabled for the tenant or not installed.
    """
    if gateway_id not in config.enabled_gateways:
        raise ConfigurationError(f"Gateway {gateway_id!r} is not enabled for tenant {tenant}.")
    plugins = load_plugins("bolletta.gateways", Gateway).plugins  # type: ignore[type-abstract]
    plugin_class = plugins.get(gateway_id)
    if plugin_class is None:
        raise ConfigurationError(f"Gateway plugin {gateway_id!r} is not installed or failed to load.")
    settings = plugin_class.settings_from_dict(config.gateway_settings.get(gateway_id, {}))
    context = GatewayContext(
        tenant_slug=tenant,
        public_base_url=rt.settings.public_base_url,
        signing_key=rt.gateway_key(tenant, gateway_id),
    )
    return plugin_class(settings, context)
