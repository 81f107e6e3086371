"""Outbox channel: keeps every message in the platform's store instead of sending it.

The demo, development set-ups and tests use it, so they go through the same dispatch path as a real
provider without reaching anyone.
"""

from __future__ import annotations

import logging
from typing import ClassVar

import msgspec

from bolletta.channels.base import (
    CONTRACT_VERSION,
    Capabilities,
    Channel,
    DeliveryReport,
    MessageStore,
    OutgoingMessage,
    SendResult,
    StatusQuery,
)
from bolletta.channels.errors import ChannelConfigError

logger = logging.getLogger(__name__)


class OutboxSettings(msgspec.Struct, kw_only=True, frozen=True):
    """The outbox has no settings."""


class OutboxChannel(Channel):
    """Channel that stores messages through ``context.store`` and reports them as delivered."""

    id: ClassVar[str] = "outbox"
    name: ClassVar[str] = "Outbox (messages kept, not sent)"
    version: ClassVar[str] = "1.0.0"
    capabilities: ClassVar[Capabilities] = Capabilities(
        kinds=frozenset({"sms", "whatsapp", "email"}), batch_size=100, status_query=True, idempotent_send=True
    )
    contract_version: ClassVar[int] = CONTRACT_VERSION
    Settings: ClassVar[type[msgspec.Struct]] = OutboxSettings

    def send(self, message: OutgoingMessage) -> SendResult:
        """Store the message and return status ``'delivered'`` with the stored record's id.

        Raises:
            ChannelConfigError: the context has no message store.
        """
        store = self._store()
        stored_id = store.save(message, self.id)
        logger.info(
            "outbox stored message tenant=%s kind=%s stored_id=%s",
            self.context.tenant_slug,
            message.kind,
            stored_id,
        )
        return SendResult(status="delivered", provider_message_id=stored_id)

    def query_status(self, query: StatusQuery) -> DeliveryReport:
        """Return ``delivered`` when the store holds the message, ``unknown`` when it does not."""
        stored_id = self._store().find(query.idempotency_key)
        if stored_id is None:
            return DeliveryReport(status="unknown", idempotency_key=query.idempotency_key)
        return DeliveryReport(status="delivered", provider_message_id=stored_id, idempotency_key=query.idempotency_key)

    def _store(self) -> MessageStore:
        store = self.context.store
        if store is None:
            raise ChannelConfigError(
                f"channel 'outbox' for tenant {self.context.tenant_slug!r} has no message store; "
                "pass ChannelContext(store=...) when creating it"
            )
        return store
