"""``check_credentials`` of the built-in channels and PayPal against their fakes and loopback SMTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bolletta.channels.base import Channel, ChannelContext
from bolletta.channels.errors import ChannelUnavailable
from bolletta.channels.outbox import OutboxChannel
from bolletta.channels.skebby import SkebbyChannel
from bolletta.channels.smtp import SmtpChannel
from bolletta.channels.twilio import TwilioChannel
from bolletta.channels.whatsapp import WhatsappChannel
from bolletta.gateways.base import GatewayContext
from bolletta.gateways.paypal import PaypalGateway
from bolletta.platform.mail.catcher import MailCatcher
from tests.fakes.channel_server import free_port_for_tests
from tests.fakes.paypal import FakePaypal
from tests.fakes.skebby import FakeSkebby
from tests.fakes.tls import TestCA
from tests.fakes.twilio import FakeTwilio
from tests.fakes.whatsapp import FakeWhatsapp


def _channel(plugin: type[Channel], settings: dict[str, Any]) -> Channel:
    return plugin(plugin.settings_from_dict(settings), ChannelContext(tenant_slug="prova"))


def test_whatsapp_token_checked(whatsapp: FakeWhatsapp) -> None:
    assert _channel(WhatsappChannel, whatsapp.settings()).check_credentials() is None
    problem = _channel(WhatsappChannel, whatsapp.settings(access_token="EAAG-wrong")).check_credentials()
    assert problem == "whatsapp: HTTP 401 code 190"


def test_twilio_auth_token_checked(twilio: FakeTwilio) -> None:
    assert _channel(TwilioChannel, twilio.settings()).check_credentials() is None
    problem = _channel(TwilioChannel, twilio.settings(auth_token="wrong")).check_credentials()
    assert problem == "twilio: HTTP 401 code 20003"


@pytest.mark.parametrize("login", ["token", "password"])
def test_skebby_credentials_checked(skebby: FakeSkebby, login: str) -> None:
    if login == "token":
        good, bad = skebby.settings(), skebby.settings(access_token="wrong")
    else:
        good = skebby.settings(access_token="", user_key="", username=skebby.username, password=skebby.password)
        bad = good | {"password": "wrong"}

    assert _channel(SkebbyChannel, good).check_credentials() is None
    problem = _channel(SkebbyChannel, bad).check_credentials()
    assert problem is not None and "401" in problem


def test_smtp_login_checked(tmp_path: Path) -> None:
    with MailCatcher(store_dir=tmp_path / "mail") as catcher:
        settings = {"host": "127.0.0.1", "port": catcher.port, "from_address": "bollette@acme.example",
                    "timeout_seconds": 5}
        assert _channel(SmtpChannel, settings).check_credentials() is None
        assert catcher.messages == []


def test_smtp_unreachable_is_unavailable() -> None:
    channel = _channel(SmtpChannel, {"host": "127.0.0.1", "port": free_port_for_tests(),
                                     "from_address": "bollette@acme.example", "timeout_seconds": 2})
    with pytest.raises(ChannelUnavailable):
        channel.check_credentials()


def test_outbox_cannot_check() -> None:
    with pytest.raises(NotImplementedError):
        _channel(OutboxChannel, {}).check_credentials()


def test_paypal_client_secret_checked(tmp_path: Path) -> None:
    ca = TestCA(tmp_path / "ca")
    fake = FakePaypal(ca, client_id="client-prova", client_secret="secret-prova", webhook_id="WH-1",
                      merchant_id="MERCHANT1")
    try:
        settings = {"client_id": "client-prova", "client_secret": "secret-prova", "webhook_id": "WH-1",
                    "api_base_url": fake.base_url, "ca_bundle": str(ca.ca_path), "timeout_seconds": 5.0}
        context = GatewayContext(tenant_slug="prova", public_base_url="https://bolletta.example", signing_key=b"k" * 32)
        good = PaypalGateway(PaypalGateway.settings_from_dict(settings), context)
        bad = PaypalGateway(PaypalGateway.settings_from_dict(settings | {"client_secret": "wrong"}), context)

        assert good.check_credentials() is None
        problem = bad.check_credentials()
    finally:
        fake.stop()
    assert problem is not None and problem.startswith("paypal: HTTP 401")
