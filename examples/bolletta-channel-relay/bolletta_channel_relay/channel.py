"""The relay channel: one class, its settings, and the mapping of the relay's statuses to ours."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import ClassVar

import httpx
import msgspec

from bolletta.channels.base import (
    CONTRACT_VERSION,
    CallbackRequest,
    Capabilities,
    Channel,
    ChannelContext,
    DeliveryReport,
    OutgoingMessage,
    SendResult,
    StatusQuery,
)
from bolletta.channels.errors import ChannelOutcomeUnknown, ChannelUnavailable

STATUSES = {"queued": "sent", "sent": "sent", "delivered": "delivered", "failed": "failed"}


class RelaySettings(msgspec.Struct, kw_only=True, frozen=True):
    """What a tenant enters for the relay channel."""

    api_key: str
    """Bearer key of the relay account (secret); it also signs the status callbacks."""
    api_base_url: str = ""
    """Empty means the production relay."""
    ca_bundle: str = ""
    timeout_seconds: float = 10.0


class RelayChannel(Channel):
    """SMS through the relay; reports by signed callback and by status query."""

    id: ClassVar[str] = "relay"
    name: ClassVar[str] = "SMS (example relay)"
    version: ClassVar[str] = "0.1.0"
    contract_version: ClassVar[int] = CONTRACT_VERSION
    capabilities: ClassVar[Capabilities] = Capabilities(
        kinds=frozenset({"sms"}), max_rate=50.0, unicode=True, delivery_reports=True, status_query=True,
        idempotent_send=True,
    )
    Settings: ClassVar[type[msgspec.Struct]] = RelaySettings
    secret_fields: ClassVar[frozenset[str]] = frozenset({"api_key"})
    api_base_urls: ClassVar[Mapping[str, str]] = {"default": "https://relay.example.net/v1"}

    settings: RelaySettings

    def __init__(self, settings: msgspec.Struct, context: ChannelContext) -> None:
        super().__init__(settings, context)
        self.client = httpx.Client(
            base_url=self.api_base_url(), verify=self.tls_verify(), timeout=self.settings.timeout_seconds,
            headers={"Authorization": f"Bearer {self.settings.api_key}"},
        )

    def send(self, message: OutgoingMessage) -> SendResult:
        """Post the SMS with our idempotency key as ``reference`` (the relay drops a repeated one)."""
        if message.kind != "sms":
            return SendResult(status="rejected", error=f"relay cannot send {message.kind!r}")
        try:
            response = self.client.post("/messages", json={
                "to": message.to, "text": message.text, "reference": message.idempotency_key})
        except httpx.ConnectError as exc:
            raise ChannelUnavailable("relay unreachable") from exc
        except httpx.TimeoutException as exc:
            raise ChannelOutcomeUnknown("relay did not answer in time") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise ChannelUnavailable(f"relay HTTP {response.status_code}", throttled=response.status_code == 429)
        if response.status_code >= 400:
            return SendResult(status="rejected", error=f"relay HTTP {response.status_code}")
        try:
            return SendResult(status="sent", provider_message_id=str(response.json()["id"]))
        except (ValueError, KeyError) as exc:
            raise ChannelOutcomeUnknown("relay answer without an id") from exc

    def verify_callback(self, request: CallbackRequest) -> bool:
        """Check ``X-Relay-Signature`` against the HMAC-SHA256 of the body under the API key."""
        expected = hmac.new(self.settings.api_key.encode(), request.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, request.headers.get("x-relay-signature", ""))

    def parse_callback(self, request: CallbackRequest) -> list[DeliveryReport]:
        """Read ``{"id", "reference", "status"}``."""
        try:
            event = json.loads(request.body)
            return [DeliveryReport(status=STATUSES[event["status"]], provider_message_id=event["id"],
                                   idempotency_key=event.get("reference"))]
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError("relay callback is malformed") from exc

    def query_status(self, query: StatusQuery) -> DeliveryReport:
        """Ask ``GET /messages/{reference}``; 404 means the relay never took it."""
        try:
            response = self.client.get(f"/messages/{query.idempotency_key}")
        except httpx.HTTPError as exc:
            raise ChannelUnavailable("relay unreachable") from exc
        if response.status_code == 404:
            return DeliveryReport(status="unknown", idempotency_key=query.idempotency_key)
        answer = response.json()
        return DeliveryReport(status=STATUSES.get(answer["status"], "sent"), provider_message_id=answer["id"],
                              idempotency_key=query.idempotency_key)
