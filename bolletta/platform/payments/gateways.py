"""Instantiating a tenant's gateway plugin, and saving its settings with secrets encrypted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from bolletta.gateways.base import Gateway, GatewayContext
from bolletta.platform.errors import ConfigurationError
from bolletta.platform.payments.credentials import open_settings, seal_settings
from bolletta.platform.plugins import load_plugins
from bolletta.platform.runtime import Runtime
from bolletta.tenants.config import TenantConfig
from bolletta.tenants.registry import get_tenant, save_config, tenant_config


def gateway_class(gateway_id: str) -> type[Gateway]:
    """Return the installed gateway plugin class ``gateway_id``.

    Raises:
        ConfigurationError: no plugin with that id is installed, or it failed to load.
    """
    plugins = load_plugins("bolletta.gateways", Gateway).plugins  # type: ignore[type-abstract]
    plugin_class = plugins.get(gateway_id)
    if plugin_class is None:
        raise ConfigurationError(f"Gateway plugin {gateway_id!r} is not installed or failed to load.")
    return plugin_class


def gateway_for(rt: Runtime, tenant: str, config: TenantConfig, gateway_id: str) -> Gateway:
    """Build the tenant's enabled gateway ``gateway_id`` with its decrypted settings.

    Raises:
        ConfigurationError: the gateway is not enabled for the tenant, not installed, or its
            stored settings are invalid or cannot be decrypted.
    """
    if gateway_id not in config.enabled_gateways:
        raise ConfigurationError(f"Gateway {gateway_id!r} is not enabled for tenant {tenant}.")
    plugin_class = gateway_class(gateway_id)
    stored = open_settings(rt, plugin_class, config.gateway_settings.get(gateway_id, {}))
    settings = plugin_class.settings_from_dict(stored)
    context = GatewayContext(
        tenant_slug=tenant,
        public_base_url=rt.settings.public_base_url,
        signing_key=rt.gateway_key(tenant, gateway_id),
    )
    return plugin_class(settings, context)


def save_gateway_settings(
    rt: Runtime, tenant: str, gateway_id: str, data: Mapping[str, Any], *, enable: bool = True,
    actor: str = "system",
) -> None:
    """Validate and store the tenant's settings of ``gateway_id`` with its secret fields encrypted.

    Raises:
        ConfigurationError: the plugin is not installed.
        GatewayConfigError: the settings do not validate.
    """
    sealed = seal_settings(rt, gateway_class(gateway_id), data)
    config = tenant_config(get_tenant(rt.db, tenant))
    enabled = list(config.enabled_gateways)
    if enable and gateway_id not in enabled:
        enabled.append(gateway_id)
    config = msgspec.structs.replace(
        config, enabled_gateways=enabled, gateway_settings={**config.gateway_settings, gateway_id: sealed}
    )
    save_config(rt.db, tenant, config, actor=actor)
