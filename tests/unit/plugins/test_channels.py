"""Channel contract helpers and the outbox channel."""

from __future__ import annotations

import pytest

from bolletta.channels.base import ChannelContext, OutgoingMessage, SendResult
from bolletta.channels.errors import ChannelConfigError
from bolletta.channels.outbox import OutboxChannel, OutboxSettings
from bolletta.channels.smtp import SmtpChannel, SmtpSettings, message_id_for


class FakeStore:
    def __init__(self) -> None:
        self.saved: list[tuple[OutgoingMessage, str]] = []

    def save(self, message: OutgoingMessage, plugin_id: str) -> str:
        self.saved.append((message, plugin_id))
        return f"stored-{len(self.saved)}"


MESSAGE = OutgoingMessage(
    kind="sms",
    to="+393331234567",
    text="La tua bolletta: https://acme.example/t/abc",
    idempotency_key="acme:ticket-1:message-1",
    tenant_slug="acme",
)


def test_outbox_stores_through_context_store() -> None:
    store = FakeStore()
    channel = OutboxChannel(OutboxSettings(), ChannelContext(tenant_slug="acme", store=store))

    first = channel.send(MESSAGE)
    second = channel.send(MESSAGE)

    assert first == SendResult(status="delivered", provider_message_id="stored-1")
    assert second.provider_message_id == "stored-2"
    assert store.saved == [(MESSAGE, "outbox"), (MESSAGE, "outbox")]


def test_outbox_without_store_raises() -> None:
    channel = OutboxChannel(OutboxSettings(), ChannelContext(tenant_slug="acme"))

    with pytest.raises(ChannelConfigError, match="'outbox' for tenant 'acme' has no message store"):
        channel.send(MESSAGE)


def test_channel_rejects_foreign_settings() -> None:
    with pytest.raises(ChannelConfigError, match="expects settings of type OutboxSettings, got SmtpSettings"):
        OutboxChannel(SmtpSettings(from_address="a@b.example"), ChannelContext(tenant_slug="acme"))


def test_smtp_settings_from_dict_defaults() -> None:
    settings = SmtpChannel.settings_from_dict({"from_address": "bollette@acme.example", "port": 587})

    assert isinstance(settings, SmtpSettings)
    assert settings.port == 587
    assert settings.host == "127.0.0.1"
    assert settings.security == "none"
    assert settings.timeout_seconds == 30


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "from_address"),
        ({"from_address": "a@b.example", "port": "twenty-five"}, "$.port"),
        ({"from_address": "a@b.example", "port": 70000}, "$.port"),
        ({"from_address": "a@b.example", "security": "ssl"}, "$.security"),
        ({"from_address": "a@b.example", "timeout_seconds": 0}, "$.timeout_seconds"),
    ],
)
def test_smtp_settings_errors_name_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(ChannelConfigError, match="invalid settings for channel 'smtp'") as raised:
        SmtpChannel.settings_from_dict(data)

    assert field in str(raised.value)


def test_smtp_password_and_dkim_key_are_secret_fields() -> None:
    assert SmtpChannel.secret_fields == frozenset({"password", "dkim_private_key"})


def test_message_id_for_is_stable_and_hides_key() -> None:
    first = message_id_for("acme:ticket-1:message-1", "bollette@acme.example")

    assert first == message_id_for("acme:ticket-1:message-1", "bollette@acme.example")
    assert first != message_id_for("acme:ticket-1:message-2", "bollette@acme.example")
    assert first.endswith("@acme.example>")
    assert "ticket-1" not in first
