"""The platform's conformance kit run against the relay plugin, plus how the platform finds it."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from bolletta_channel_relay.channel import RelayChannel

from bolletta.channels.base import CallbackRequest, SendResult
from bolletta.channels.testing import ChannelConformance
from bolletta.platform.plugins import clear_plugin_cache, load_plugins

from .fake_relay import FakeRelay

API_KEY = "relay-test-key"


@pytest.fixture(scope="module")
def relay() -> Iterator[FakeRelay]:
    with FakeRelay(API_KEY) as fake:
        yield fake


class TestRelayConformance(ChannelConformance):
    plugin_class = RelayChannel

    @pytest.fixture(autouse=True)
    def _relay(self, relay: FakeRelay) -> None:
        self.relay = relay

    def settings(self) -> Mapping[str, Any]:
        return {"api_key": API_KEY, "api_base_url": self.relay.url}

    def signed_callback(self, report_for: SendResult) -> CallbackRequest:
        body = json.dumps({"id": report_for.provider_message_id, "reference": "conformance-callback",
                           "status": "delivered"}).encode()
        signature = hmac.new(API_KEY.encode(), body, hashlib.sha256).hexdigest()
        return CallbackRequest(method="POST", url="https://platform.example/hooks/channels/relay/t",
                               headers={"x-relay-signature": signature}, body=body)


def test_platform_loads_the_installed_plugin_by_its_entry_point() -> None:
    clear_plugin_cache()
    from bolletta.channels.base import Channel

    loaded = load_plugins("bolletta.channels", Channel)  # type: ignore[type-abstract]
    assert loaded.plugins.get("relay") is RelayChannel
