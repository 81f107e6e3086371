"""The conformance kit run against the built-in channels, each reaching its fake over TLS."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from bolletta.channels.base import CallbackRequest, Channel, SendResult
from bolletta.channels.outbox import OutboxChannel
from bolletta.channels.skebby import SkebbyChannel
from bolletta.channels.testing import ChannelConformance
from bolletta.channels.twilio import TwilioChannel
from bolletta.channels.whatsapp import WhatsappChannel
from tests.fakes.channel_server import LoopbackCA, make_test_ca
from tests.fakes.skebby import FakeSkebby
from tests.fakes.twilio import FakeTwilio, twilio_signature
from tests.fakes.whatsapp import FakeWhatsapp

CALLBACK = "https://platform.example/hooks/channels/x/conformance"


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> LoopbackCA:
    return make_test_ca(tmp_path_factory.mktemp("ca"))


class TestOutboxConformance(ChannelConformance):
    plugin_class = OutboxChannel

    def settings(self) -> Mapping[str, Any]:
        return {}


class TestSkebbyConformance(ChannelConformance):
    plugin_class = SkebbyChannel

    @pytest.fixture(autouse=True)
    def _fake(self, ca: LoopbackCA) -> Iterator[None]:
        with FakeSkebby(ca) as fake:
            self.fake = fake
            yield

    def settings(self) -> Mapping[str, Any]:
        return self.fake.settings()


class TestTwilioConformance(ChannelConformance):
    plugin_class = TwilioChannel

    @pytest.fixture(autouse=True)
    def _fake(self, ca: LoopbackCA) -> Iterator[None]:
        with FakeTwilio(ca) as fake:
            self.fake = fake
            yield

    def settings(self) -> Mapping[str, Any]:
        return self.fake.settings()

    def signed_callback(self, report_for: SendResult) -> CallbackRequest:
        url = f"{CALLBACK}?key=conformance-callback"
        params = {"MessageSid": report_for.provider_message_id or "", "MessageStatus": "delivered"}
        body = "&".join(f"{k}={v}" for k, v in params.items()).encode()
        return CallbackRequest(method="POST", url=url, body=body, query={"key": "conformance-callback"},
                               headers={"x-twilio-signature": twilio_signature(self.fake.auth_token, url, params)})


class TestWhatsappConformance(ChannelConformance):
    plugin_class = WhatsappChannel

    @pytest.fixture(autouse=True)
    def _fake(self, ca: LoopbackCA) -> Iterator[None]:
        with FakeWhatsapp(ca) as fake:
            self.fake = fake
            yield

    def settings(self) -> Mapping[str, Any]:
        return self.fake.settings()

    def signed_callback(self, report_for: SendResult) -> CallbackRequest:
        body = self.fake.webhook_body([(report_for.provider_message_id or "", "delivered")])
        return CallbackRequest(method="POST", url=CALLBACK, body=body,
                               headers={"x-hub-signature-256": self.fake.sign(body)})


def test_every_builtin_channel_has_a_conformance_run() -> None:
    from bolletta.platform.dispatch.channels import installed_channels

    covered: set[type[Channel]] = {OutboxChannel, SkebbyChannel, TwilioChannel, WhatsappChannel}
    builtin = {plugin for plugin in installed_channels().plugins.values() if plugin.__module__.startswith("bolletta.")}
    assert builtin - covered <= {installed_channels().plugins["smtp"]}
