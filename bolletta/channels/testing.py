"""Conformance kit for channel plugins: run it in your plugin's own test suite.

Subclass :class:`ChannelConformance` in a test module, set :attr:`~ChannelConformance.plugin_class`
and implement :meth:`~ChannelConformance.settings` (settings that reach your fake provider), and
pytest collects every ``test_`` method below::

    from bolletta.channels.testing import ChannelConformance

    class TestMyChannel(ChannelConformance):
        plugin_class = MyChannel

        def settings(self) -> dict[str, object]:
            return {"api_key": "test-key", "api_base_url": self.fake_url}

Override :meth:`~ChannelConformance.recipient` when your provider wants other addresses, and
:meth:`~ChannelConformance.signed_callback` to have the kit check that a correctly signed callback
is accepted and parsed. The kit checks the contract, not your provider: keep your own tests for
protocol details (faults, report formats).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any, ClassVar

import msgspec

from bolletta.channels.base import (
    CONTRACT_VERSION,
    MESSAGE_KINDS,
    REPORT_STATUSES,
    CallbackRequest,
    Capabilities,
    Channel,
    ChannelContext,
    DeliveryReport,
    OutgoingMessage,
    SendResult,
    StatusQuery,
)
from bolletta.channels.errors import ChannelConfigError

PLUGIN_ID = re.compile(r"^[a-z][a-z0-9_-]{1,39}$")
SEND_STATUSES = frozenset({"sent", "delivered", "rejected"})


class MemoryStore:
    """A :class:`~bolletta.channels.base.MessageStore` in memory, for channels that keep messages."""

    def __init__(self) -> None:
        self.saved: dict[str, OutgoingMessage] = {}
        self._lock = threading.Lock()

    def save(self, message: OutgoingMessage, plugin_id: str) -> str:
        with self._lock:
            self.saved.setdefault(message.idempotency_key, message)
            return message.idempotency_key

    def find(self, idempotency_key: str) -> str | None:
        return idempotency_key if idempotency_key in self.saved else None


def make_message(kind: str, to: str, *, key: str = "conformance-1", **changes: Any) -> OutgoingMessage:
    """Build an :class:`OutgoingMessage` of ``kind`` with plausible texts and no personal data."""
    values: dict[str, Any] = {
        "kind": kind, "to": to, "idempotency_key": key,
        "text": "ACME Energia: la bolletta luce n. 2026/1 scade il 31/12/2026. https://b.example/t/AbCdEfGhIjKlMnOpQrStUv",
        "link": "https://b.example/t/AbCdEfGhIjKlMnOpQrStUv", "tenant_slug": "conformance",
        "template_params": {"utility": "ACME Energia", "document_number": "2026/1", "due_date": "31/12/2026",
                            "service_label": "luce"},
    }
    if kind == "email":
        values |= {"subject": "La tua bolletta", "html": "<p>La tua bolletta</p>"}
    return OutgoingMessage(**(values | changes))


class ChannelConformance:
    """The contract checks; pytest runs every ``test_`` method on your subclass."""

    plugin_class: ClassVar[type[Channel]]
    """The plugin class under test."""

    def settings(self) -> Mapping[str, Any]:
        """Settings (as stored) that make the plugin reach your fake provider."""
        raise NotImplementedError("set the settings your plugin needs to reach its fake provider")

    def recipient(self, kind: str) -> str:
        """Return an address of ``kind`` your fake accepts."""
        return "cliente@example.org" if kind == "email" else "+393330000001"

    def signed_callback(self, report_for: SendResult) -> CallbackRequest | None:
        """A correctly signed callback about the sent message, or ``None`` if your channel has none."""
        return None

    def make_channel(self) -> Channel:
        """Create an instance of the plugin with :meth:`settings` and an in-memory store."""
        settings = self.plugin_class.settings_from_dict(self.settings())
        context = ChannelContext(tenant_slug="conformance", store=MemoryStore(),
                                 callback_url="https://platform.example/hooks/channels/x/conformance")
        return self.plugin_class(settings, context)

    # --- identity and declarations ---

    def test_identity(self) -> None:
        plugin = self.plugin_class
        assert isinstance(plugin.id, str) and PLUGIN_ID.match(plugin.id), (
            f"id {plugin.id!r} must be 2-40 lower-case letters, digits, '-' or '_', starting with a letter")
        assert isinstance(plugin.name, str) and plugin.name.strip(), "name must be a non-empty string"
        assert isinstance(plugin.version, str) and plugin.version.strip(), "version must be a non-empty string"
        assert plugin.contract_version == CONTRACT_VERSION, (
            f"contract_version is {plugin.contract_version}; this platform provides {CONTRACT_VERSION}")

    def test_capabilities(self) -> None:
        caps = self.plugin_class.capabilities
        assert isinstance(caps, Capabilities), "capabilities must be a bolletta.channels.base.Capabilities"
        assert caps.kinds and caps.kinds <= MESSAGE_KINDS, (
            f"kinds {set(caps.kinds)} must be within {set(MESSAGE_KINDS)}")
        assert caps.batch_size >= 1, "batch_size must be at least 1"
        assert caps.max_rate is None or caps.max_rate > 0, "max_rate must be None or positive"

    def test_settings_struct(self) -> None:
        plugin = self.plugin_class
        assert isinstance(plugin.Settings, type) and issubclass(plugin.Settings, msgspec.Struct), (
            "Settings must be a msgspec.Struct subclass")
        fields = set(plugin.Settings.__struct_fields__)
        assert plugin.secret_fields <= fields, f"secret_fields {set(plugin.secret_fields - fields)} are not fields"
        assert isinstance(plugin.settings_from_dict(self.settings()), plugin.Settings)
        wrong = {name: [[object]] for name in fields}
        if fields:
            try:
                plugin.settings_from_dict(wrong)
            except ChannelConfigError:
                pass
            else:
                raise AssertionError("settings_from_dict must raise ChannelConfigError on values of the wrong type")

    def test_api_base_urls_use_https(self) -> None:
        for name, url in self.plugin_class.api_base_urls.items():
            assert url.startswith("https://"), f"production API base URL {name!r} must use HTTPS, got {url!r}"

    # --- sending ---

    def test_send_each_kind(self) -> None:
        channel = self.make_channel()
        for index, kind in enumerate(sorted(self.plugin_class.capabilities.kinds)):
            result = channel.send(make_message(kind, self.recipient(kind), key=f"conformance-send-{index}"))
            assert isinstance(result, SendResult), "send must return a SendResult"
            assert result.status in SEND_STATUSES, f"send returned status {result.status!r}"
            if result.status in ("sent", "delivered"):
                assert result.provider_message_id, "an accepted message needs a provider_message_id"

    def test_foreign_kind_is_rejected_not_raised(self) -> None:
        channel = self.make_channel()
        for kind in sorted(MESSAGE_KINDS - self.plugin_class.capabilities.kinds):
            result = channel.send(make_message(kind, self.recipient(kind), key=f"conformance-foreign-{kind}"))
            assert result.status == "rejected", f"a {kind} message must be rejected, got {result.status!r}"

    def test_send_batch_returns_one_result_per_message(self) -> None:
        channel = self.make_channel()
        kind = sorted(self.plugin_class.capabilities.kinds)[0]
        size = min(2, self.plugin_class.capabilities.batch_size) or 1
        messages = [make_message(kind, self.recipient(kind), key=f"conformance-batch-{n}") for n in range(size)]
        results = channel.send_batch(messages)
        assert len(results) == len(messages), "send_batch must return one result per message"

    def test_concurrent_sends(self) -> None:
        channel = self.make_channel()
        kind = sorted(self.plugin_class.capabilities.kinds)[0]
        results: list[SendResult] = []
        lock = threading.Lock()

        def send(number: int) -> None:
            result = channel.send(make_message(kind, self.recipient(kind), key=f"conformance-thread-{number}"))
            with lock:
                results.append(result)

        threads = [threading.Thread(target=send, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert len(results) == 4 and all(r.status in SEND_STATUSES for r in results), (
            "one instance must serve sends from several threads")

    def test_secrets_never_in_errors(self) -> None:
        channel = self.make_channel()
        secrets = [str(value) for name, value in self.settings().items()
                   if name in self.plugin_class.secret_fields and value]
        kind = sorted(self.plugin_class.capabilities.kinds)[0]
        result = channel.send(make_message(kind, "not-an-address", key="conformance-bad-address"))
        for secret in secrets:
            assert secret not in (result.error or ""), "a SendResult error must not contain a secret"

    # --- reports ---

    def test_unsigned_callback_is_refused(self) -> None:
        channel = self.make_channel()
        forged = CallbackRequest(method="POST", url="https://platform.example/hooks/channels/x/conformance",
                                 headers={"content-type": "application/json"}, body=b'{"status": "delivered"}')
        assert channel.verify_callback(forged) is False, "a callback without a valid signature must be refused"

    def test_signed_callback_is_parsed(self) -> None:
        channel = self.make_channel()
        kind = sorted(self.plugin_class.capabilities.kinds)[0]
        sent = channel.send(make_message(kind, self.recipient(kind), key="conformance-callback"))
        callback = self.signed_callback(sent)
        if callback is None:
            return
        assert channel.verify_callback(callback) is True, "a correctly signed callback must verify"
        reports = channel.parse_callback(callback)
        assert reports and all(isinstance(r, DeliveryReport) for r in reports)
        assert all(r.status in REPORT_STATUSES for r in reports)
        assert all(r.provider_message_id or r.idempotency_key for r in reports), (
            "each report needs a provider_message_id or an idempotency_key to match its message")

    def test_status_query(self) -> None:
        channel = self.make_channel()
        kind = sorted(self.plugin_class.capabilities.kinds)[0]
        sent = channel.send(make_message(kind, self.recipient(kind), key="conformance-query"))
        report = channel.query_status(StatusQuery(idempotency_key="conformance-query", to=self.recipient(kind),
                                                  provider_message_id=sent.provider_message_id))
        if not self.plugin_class.capabilities.status_query:
            assert report is None, "a channel without status_query must return None"
            return
        assert isinstance(report, DeliveryReport) and report.status in REPORT_STATUSES
        assert report.status != "unknown", "the provider must know a message it accepted"
        never = channel.query_status(StatusQuery(idempotency_key="conformance-never-sent", to=self.recipient(kind)))
        assert never is None or never.status == "unknown", "a message never sent must be None or 'unknown'"
