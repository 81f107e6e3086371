"""Instantiating a tenant's channel plugin for a message kind."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bolletta.channels.base import Channel, ChannelContext, OutgoingMessage
from bolletta.platform import clock
from bolletta.platform.db.models.tenant import StoredMessage
from bolletta.platform.errors import ConfigurationError
from bolletta.platform.plugins import load_plugins
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


def _smtp_defaults(rt: Runtime, config: TenantConfig) -> dict[str, Any]:
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


def channel_for(rt: Runtime, tenant: str, config: TenantConfig, kind: str) -> Channel:
    """Build the tenant's configured channel plugin for ``kind`` with the tenant's settings.

    Raises:
        ConfigurationError: no plugin is mapped to ``kind`` or the plugin is not installed.
    """
    plugin_id = config.channel_plugins.get(kind)
    if not plugin_id:
        raise ConfigurationError(f"Tenant {tenant} has no channel plugin for {kind} messages.")
    plugins = load_plugins("bolletta.channels", Channel).plugins  # type: ignore[type-abstract]
    plugin_class = plugins.get(plugin_id)
    if plugin_class is None:
        raise ConfigurationError(
            f"Channel plugin {plugin_id!r} for {kind} is not installed or failed to load; "
            f"installed: {', '.join(sorted(plugins)) or 'none'}."
        )
    raw = dict(config.channel_settings.get(plugin_id, {}))
    if plugin_id == "smtp":
        raw = _smtp_defaults(rt, config) | raw
    settings = plugin_class.settings_from_dict(raw)
    context = ChannelContext(tenant_slug=tenant, store=TenantMessageStore(rt, tenant))
    return plugin_class(settings, context)
