"""Loading channel plugins, the catalogue, and a tenant's channel instance for a message kind.

Plugins come from the entry point group ``bolletta.channels`` through stevedore
(:func:`bolletta.platform.plugins.load_plugins`): one that fails to import or declares another
contract version is reported by name in :func:`channel_catalogue` and never stops the others. A
plugin sends nothing for a tenant until a platform admin lists it in ``enabled_channels``.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bolletta.channels.base import Channel, ChannelContext, OutgoingMessage, describe
from bolletta.channels.errors import ChannelConfigError
from bolletta.platform import clock
from bolletta.platform.db.models.tenant import StoredMessage
from bolletta.platform.dispatch import secrets, shared_accounts
from bolletta.platform.errors import ConfigurationError
from bolletta.platform.plugins import PluginSet, load_plugins
from bolletta.platform.runtime import Runtime
from bolletta.tenants.config import TenantConfig


class TenantMessageStore:
    """Message store of the ``outbox`` channel: the tenant's ``stored_messages`` table."""

    def __init__(self, rt: Runtime, tenant: str) -> None:
        self.rt = rt
        self.tenant = tenant

    def save(self, message: OutgoingMessage, plugin_id: str) -> str:
        """Store ``message`` once per idempotency key and return the stored row's id."""
        with self.rt.db.tenant_session(self.tenant) as session:
            row = StoredMessage(
                plugin=plugin_id, kind=message.kind, to_address=message.to, subject=message.subject,
                text=message.text, html=message.html, idempotency_key=message.idempotency_key,
                created_at=clock.now(),
            )
            session.add(row)
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                existing = session.scalar(
                    select(StoredMessage.id).where(StoredMessage.idempotency_key == message.idempotency_key)
                )
                return str(existing)
            return str(row.id)

    def find(self, idempotency_key: str) -> str | None:
        """Return the id of the row stored for ``idempotency_key``, or ``None``."""
        with self.rt.db.tenant_session(self.tenant) as session:
            found = session.scalar(select(StoredMessage.id).where(StoredMessage.idempotency_key == idempotency_key))
            return None if found is None else str(found)


def smtp_defaults(rt: Runtime, config: TenantConfig) -> dict[str, Any]:
    url = urlsplit(rt.settings.smtp_url)
    security = {"smtps": "tls", "smtp+starttls": "starttls"}.get(url.scheme, "none")
    return {
        "host": url.hostname or "127.0.0.1",
        "port": url.port or (465 if security == "tls" else 25),
        "security": security,
        "username": unquote(url.username or ""),
        "password": unquote(url.password or ""),
        "from_address": config.email_sender or rt.settings.mail_from,
    }


GROUP = "bolletta.channels"

MAX_INSTANCES = 256
"""Channel instances kept (one per tenant, plugin and settings version), so HTTP connections pool."""

_instances: dict[tuple[Any, ...], Channel] = {}
_instances_lock = threading.Lock()

_test_extras: dict[str, Any] = {}
"""Objects given to every channel's ``ChannelContext.extra`` (tests set a DKIM resolver here)."""


def installed_channels() -> PluginSet[Channel]:
    """Every channel plugin that loaded, and one error per plugin that did not."""
    return load_plugins(GROUP, Channel)  # type: ignore[type-abstract]


def channel_catalogue() -> list[dict[str, Any]]:
    """Catalogue entries of the installed channel plugins, then the broken ones with their reason."""
    loaded = installed_channels()
    entries = [describe(plugin) | {"loaded": True} for _, plugin in sorted(loaded.plugins.items())]
    entries += [{"id": error.plugin_id, "loaded": False, "error": error.reason} for error in loaded.errors]
    return entries


def callback_url(rt: Runtime, tenant: str, plugin_id: str) -> str:
    """The public URL a provider posts this tenant's delivery reports to."""
    return f"{rt.settings.public_base_url.rstrip('/')}/hooks/channels/{plugin_id}/{tenant}"


def plugin_for_tenant(rt: Runtime, tenant: str, config: TenantConfig, plugin_id: str,
                      kind: str | None = None) -> Channel:
    """Build plugin ``plugin_id`` with the tenant's settings, or a shared account's for ``kind``.

    When the tenant chose a platform shared account for ``kind`` (``channel_accounts``), the
    account's settings replace the tenant's own, which are left untouched.

    Raises:
        ConfigurationError: the plugin is not installed, failed to load, or is not enabled for
            the tenant, the chosen shared account is gone or uses another plugin, or the
            settings do not validate.
    """
    account = shared_accounts.account_for(rt, config, kind, plugin_id)
    if plugin_id not in config.enabled_channels:
        raise ConfigurationError(
            f"Channel plugin {plugin_id!r} is not enabled for tenant {tenant}; a platform admin must enable it."
        )
    plugins = installed_channels().plugins
    plugin_class = plugins.get(plugin_id)
    if plugin_class is None:
        raise ConfigurationError(
            f"Channel plugin {plugin_id!r} is not installed or failed to load; "
            f"installed: {', '.join(sorted(plugins)) or 'none'}."
        )
    raw = dict(config.channel_settings.get(plugin_id, {}) if account is None else account.settings)
    if plugin_id == "smtp":
        raw = smtp_defaults(rt, config) | raw
    # The runtime is part of the key: an instance holds a store bound to one runtime's database.
    runtime_key = (id(rt), rt.settings.data_dir, rt.settings.database_url, rt.settings.public_base_url)
    account_name = None if account is None else account.name
    cache_key = (runtime_key, tenant, plugin_id, account_name, repr(sorted(raw.items())), id(plugin_class),
                 tuple(_test_extras.items()))
    with _instances_lock:
        cached = _instances.get(cache_key)
    if cached is not None:
        return cached
    try:
        settings = plugin_class.settings_from_dict(secrets.reveal(rt, raw, plugin_class.secret_fields))
        context = ChannelContext(
            tenant_slug=tenant, store=TenantMessageStore(rt, tenant),
            callback_url=callback_url(rt, tenant, plugin_id), extra=dict(_test_extras),
        )
        instance = plugin_class(settings, context)
    except ChannelConfigError as exc:
        raise ConfigurationError(str(exc)) from exc
    with _instances_lock:
        if len(_instances) >= MAX_INSTANCES:
            _instances.clear()
        _instances[cache_key] = instance
    return instance


def channel_for(rt: Runtime, tenant: str, config: TenantConfig, kind: str) -> Channel:
    """Build the tenant's configured channel plugin for ``kind`` with the tenant's settings.

    Raises:
        ConfigurationError: no plugin is mapped to ``kind``, or it is not installed or not enabled.
    """
    plugin_id = config.channel_plugins.get(kind)
    if not plugin_id:
        raise ConfigurationError(f"Tenant {tenant} has no channel plugin for {kind} messages.")
    return plugin_for_tenant(rt, tenant, config, plugin_id, kind)
