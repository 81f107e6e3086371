"""Gateway plugins: the catalogue, a tenant's instance, enabling one, saving its settings encrypted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from bolletta.gateways.base import Gateway, GatewayContext
from bolletta.platform import audit
from bolletta.platform.errors import ConfigurationError, PermissionDenied
from bolletta.platform.jobs.approval import Staff
from bolletta.platform.payments.credentials import open_settings, seal_settings
from bolletta.platform.plugins import PluginSet, load_plugins
from bolletta.platform.runtime import Runtime
from bolletta.tenants.config import TenantConfig
from bolletta.tenants.registry import get_tenant, save_config, tenant_config


def gateway_class(gateway_id: str) -> type[Gateway]:
    """Return the installed gateway plugin class ``gateway_id``.

    Raises:
        ConfigurationError: no plugin with that id is installed, or it failed to load.
    """
    plugins = installed_gateways().plugins
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
    return plugin_class(plugin_class.settings_from_dict(stored), _context(rt, tenant, gateway_id))


def _context(rt: Runtime, tenant: str, gateway_id: str) -> GatewayContext:
    return GatewayContext(
        tenant_slug=tenant,
        public_base_url=rt.settings.public_base_url,
        signing_key=rt.gateway_key(tenant, gateway_id),
    )


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


GROUP = "bolletta.gateways"


def installed_gateways() -> PluginSet[Gateway]:
    """Return every gateway plugin that loaded, and one error per plugin that did not."""
    return load_plugins(GROUP, Gateway)  # type: ignore[type-abstract]


def describe_gateway(plugin: type[Gateway]) -> dict[str, Any]:
    """Return the catalogue entry of a gateway class: id, name, version, capabilities and settings."""
    return {
        "id": plugin.id,
        "name": plugin.name,
        "version": plugin.version,
        "contract_version": plugin.contract_version,
        "capabilities": msgspec.to_builtins(plugin.capabilities),
        "settings": list(plugin.Settings.__struct_fields__),
        "secret_fields": sorted(plugin.secret_fields),
    }


def gateway_catalogue() -> list[dict[str, Any]]:
    """Catalogue entries of the installed gateway plugins, then the broken ones with their reason."""
    loaded = installed_gateways()
    entries = [describe_gateway(plugin) | {"loaded": True} for _, plugin in sorted(loaded.plugins.items())]
    entries += [{"id": error.plugin_id, "loaded": False, "error": error.reason} for error in loaded.errors]
    return entries


def enable_gateway(rt: Runtime, tenant: str, gateway_id: str, staff: Staff, *, enabled: bool = True) -> None:
    """Turn a gateway plugin on or off for a tenant (platform admins only), audited on the tenant.

    Turning a gateway off keeps its stored settings, so turning it on again needs no new credentials.

    Raises:
        ConfigurationError: the plugin is not installed.
        PermissionDenied: the staff member is not a platform admin.
    """
    if staff.role != "platform_admin":
        raise PermissionDenied("Only a platform admin can enable or disable payment gateways.")
    gateway_class(gateway_id)
    config = tenant_config(get_tenant(rt.db, tenant))
    current = [g for g in config.enabled_gateways if g != gateway_id]
    config = msgspec.structs.replace(config, enabled_gateways=[*current, gateway_id] if enabled else current)
    save_config(rt.db, tenant, config, actor=staff.actor)
    with rt.db.tenant_session(tenant) as session:
        audit.record(session, actor=staff.actor, user_id=staff.user_id,
                     action="gateway.enable" if enabled else "gateway.disable", target=f"gateway:{gateway_id}",
                     ip=staff.ip)
        session.commit()


def update_gateway_settings(rt: Runtime, tenant: str, gateway_id: str, submitted: Mapping[str, Any],
                            staff: Staff) -> None:
    """Validate and store a tenant's settings of ``gateway_id`` from a form (platform admins only).

    A secret field submitted empty or left out keeps the stored secret; every other field left out
    takes the plugin's default. Whether the gateway is enabled does not change. Audited on the tenant
    with secrets masked.

    Raises:
        ConfigurationError: the plugin is not installed, or a stored secret does not decrypt.
        GatewayConfigError: the settings do not validate; the message names the field.
        PermissionDenied: the staff member is not a platform admin.
    """
    if staff.role != "platform_admin":
        raise PermissionDenied("Only a platform admin can change payment gateway settings.")
    plugin = gateway_class(gateway_id)
    values = {name: value for name, value in submitted.items() if name in plugin.Settings.__struct_fields__}
    save_gateway_settings(rt, tenant, gateway_id, _with_kept_secrets(rt, tenant, gateway_id, values), enable=False,
                          actor=staff.actor)
    audited = {name: value for name, value in values.items() if name not in plugin.secret_fields}
    audited |= {name: "(set)" if values.get(name) else "" for name in plugin.secret_fields}
    with rt.db.tenant_session(tenant) as session:
        audit.record(session, actor=staff.actor, user_id=staff.user_id, action="gateway.settings",
                     target=f"gateway:{gateway_id}", detail=audited, ip=staff.ip)
        session.commit()


def submitted_gateway(rt: Runtime, tenant: str, gateway_id: str, submitted: Mapping[str, Any]) -> Gateway:
    """Build the tenant's gateway ``gateway_id`` with the settings a form submits, storing nothing.

    The settings are the ones :func:`update_gateway_settings` would store for the same form, so a
    check of the credentials on this instance tries exactly what saving keeps.

    Raises:
        ConfigurationError: the plugin is not installed, or a stored secret does not decrypt.
        GatewayConfigError: the settings do not validate; the message names the field.
    """
    plugin = gateway_class(gateway_id)
    values = {name: value for name, value in submitted.items() if name in plugin.Settings.__struct_fields__}
    settings = plugin.settings_from_dict(_with_kept_secrets(rt, tenant, gateway_id, values))
    return plugin(settings, _context(rt, tenant, gateway_id))


def _with_kept_secrets(rt: Runtime, tenant: str, gateway_id: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``values`` with each secret submitted empty or left out replaced by the stored one."""
    plugin = gateway_class(gateway_id)
    config = tenant_config(get_tenant(rt.db, tenant))
    stored = open_settings(rt, plugin, config.gateway_settings.get(gateway_id, {}))
    stored_secrets = {name: stored[name] for name in plugin.secret_fields
                      if not values.get(name) and stored.get(name)}
    return {**values, **stored_secrets}
