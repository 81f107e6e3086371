"""``check_credentials`` of Nexi, Axerve and Satispay against their fakes over loopback TLS."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bolletta.gateways.axerve import AxerveGateway
from bolletta.gateways.base import Gateway, GatewayContext
from bolletta.gateways.errors import GatewayUnavailable
from bolletta.gateways.nexi import NexiGateway
from bolletta.gateways.satispay import SatispayGateway
from tests.fakes.axerve import FakeAxerve
from tests.fakes.channel_server import free_port_for_tests
from tests.fakes.nexi import FakeNexi
from tests.fakes.satispay import FakeSatispay
from tests.fakes.tls import TestCA
from tests.integration.payments.shop import (
    AXERVE_API_KEY,
    AXERVE_SHOP,
    NEXI_ALIAS,
    NEXI_API_KEY,
    NEXI_MAC_KEY,
    SATISPAY_KEY_ID,
)


def _gateway(plugin: type[Gateway], settings: dict[str, Any]) -> Gateway:
    context = GatewayContext(tenant_slug="prova", public_base_url="https://bolletta.example", signing_key=b"k" * 32)
    return plugin(plugin.settings_from_dict(settings), context)


def _unreachable() -> str:
    return f"https://127.0.0.1:{free_port_for_tests()}"


def _pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.fixture()
def nexi_classic_settings(fake_nexi: FakeNexi, test_ca: TestCA) -> dict[str, Any]:
    fake_nexi.behave()
    return {"mode": "classic", "alias": NEXI_ALIAS, "mac_key": NEXI_MAC_KEY, "api_base_url": fake_nexi.base_url,
            "ca_bundle": str(test_ca.ca_path), "timeout_seconds": 5.0}


@pytest.fixture()
def nexi_api_settings(fake_nexi: FakeNexi, test_ca: TestCA) -> dict[str, Any]:
    fake_nexi.behave()
    return {"mode": "api", "api_key": NEXI_API_KEY, "api_base_url": fake_nexi.api_base_url,
            "ca_bundle": str(test_ca.ca_path), "timeout_seconds": 5.0}


@pytest.fixture()
def axerve_settings(fake_axerve: FakeAxerve, test_ca: TestCA) -> dict[str, Any]:
    fake_axerve.behave()
    return {"shop_login": AXERVE_SHOP, "api_key": AXERVE_API_KEY, "api_base_url": fake_axerve.api_base_url,
            "ca_bundle": str(test_ca.ca_path), "timeout_seconds": 5.0}


@pytest.fixture()
def satispay_settings(fake_satispay: FakeSatispay, satispay_key: rsa.RSAPrivateKey,
                      test_ca: TestCA) -> dict[str, Any]:
    fake_satispay.behave()
    return {"key_id": SATISPAY_KEY_ID, "private_key": _pem(satispay_key), "api_base_url": fake_satispay.api_base_url,
            "ca_bundle": str(test_ca.ca_path), "timeout_seconds": 5.0}


def test_nexi_classic_mac_key_checked(nexi_classic_settings: dict[str, Any], fake_nexi: FakeNexi) -> None:
    before = len(fake_nexi.orders)

    accepted = _gateway(NexiGateway, nexi_classic_settings).check_credentials()
    wrong_key = _gateway(NexiGateway, nexi_classic_settings | {"mac_key": "chiave-sbagliata"}).check_credentials()
    wrong_alias = _gateway(NexiGateway, nexi_classic_settings | {"alias": "ALIAS_WEB_0000"}).check_credentials()

    assert accepted is None
    assert wrong_key == "nexi: esito KO codice 3 (MAC errato)"
    assert wrong_alias == "nexi: esito KO codice 3 (MAC errato)"
    assert "chiave-sbagliata" not in wrong_key
    assert fake_nexi.requests[-1].path == "/ecomm/api/profileInfo"
    assert len(fake_nexi.orders) == before


def test_nexi_classic_forged_answer_unavailable(nexi_classic_settings: dict[str, Any], fake_nexi: FakeNexi) -> None:
    fake_nexi.behave(forge=True)
    try:
        with pytest.raises(GatewayUnavailable, match="profileInfo response MAC does not match"):
            _gateway(NexiGateway, nexi_classic_settings).check_credentials()
    finally:
        fake_nexi.behave()


def test_nexi_api_key_checked(nexi_api_settings: dict[str, Any], fake_nexi: FakeNexi) -> None:
    accepted = _gateway(NexiGateway, nexi_api_settings).check_credentials()
    rejected = _gateway(NexiGateway, nexi_api_settings | {"api_key": "chiave-api-sbagliata"}).check_credentials()

    assert accepted is None
    assert rejected == "nexi: HTTP 401 GW0001 (Invalid API key)"
    assert "chiave-api-sbagliata" not in rejected
    assert fake_nexi.requests[-1].method == "GET"
    assert fake_nexi.requests[-1].path.endswith("/payment_methods")


def test_axerve_api_key_checked(axerve_settings: dict[str, Any], fake_axerve: FakeAxerve) -> None:
    before = len(fake_axerve.orders)

    accepted = _gateway(AxerveGateway, axerve_settings).check_credentials()
    wrong_key = _gateway(AxerveGateway, axerve_settings | {"api_key": "apikey-sbagliata"}).check_credentials()
    wrong_shop = _gateway(AxerveGateway, axerve_settings | {"shop_login": "GESPAY00000"}).check_credentials()

    assert accepted is None
    assert wrong_key == "axerve: HTTP 403 code 1166 (Invalid ApiKey)"
    assert "apikey-sbagliata" not in wrong_key
    assert wrong_shop == "axerve: HTTP 400 code 1105 (Invalid parameter value)"
    assert fake_axerve.requests[-1].path.endswith("/check/email/")
    assert len(fake_axerve.orders) == before


def test_satispay_key_checked(satispay_settings: dict[str, Any], fake_satispay: FakeSatispay) -> None:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    before = len(fake_satispay.orders)

    accepted = _gateway(SatispayGateway, satispay_settings).check_credentials()
    wrong_key = _gateway(SatispayGateway, satispay_settings | {"private_key": _pem(other_key)}).check_credentials()
    wrong_id = _gateway(SatispayGateway, satispay_settings | {"key_id": "key-sconosciuta"}).check_credentials()

    assert accepted is None
    assert wrong_key is not None
    assert wrong_key.startswith("satispay: HTTP 401 code 34 (Unauthorized: signature does not verify) wlt ")
    assert wrong_id is not None
    assert wrong_id.startswith("satispay: HTTP 401 code 34 (Unauthorized: unknown keyId or algorithm)")
    assert "PRIVATE KEY" not in wrong_key
    assert fake_satispay.requests[-1].target.endswith("/payments?limit=1")
    assert len(fake_satispay.orders) == before


@pytest.mark.parametrize("plugin, settings_fixture", [
    (NexiGateway, "nexi_classic_settings"), (NexiGateway, "nexi_api_settings"),
    (AxerveGateway, "axerve_settings"), (SatispayGateway, "satispay_settings"),
])
def test_unreachable_provider_unavailable(plugin: type[Gateway], settings_fixture: str,
                                          request: pytest.FixtureRequest) -> None:
    settings: dict[str, Any] = request.getfixturevalue(settings_fixture)
    gateway = _gateway(plugin, settings | {"api_base_url": _unreachable(), "timeout_seconds": 2.0})

    with pytest.raises(GatewayUnavailable, match=rf"^{plugin.id}: (GET|POST) \S+ failed: ConnectError$"):
        gateway.check_credentials()


@pytest.mark.parametrize("fake_fixture, plugin, settings_fixture", [
    ("fake_nexi", NexiGateway, "nexi_classic_settings"), ("fake_axerve", AxerveGateway, "axerve_settings"),
    ("fake_satispay", SatispayGateway, "satispay_settings"),
])
def test_provider_server_error_unavailable(fake_fixture: str, plugin: type[Gateway], settings_fixture: str,
                                           request: pytest.FixtureRequest) -> None:
    settings: dict[str, Any] = request.getfixturevalue(settings_fixture)
    fake = request.getfixturevalue(fake_fixture)
    fake.behave(api_status=503)
    try:
        with pytest.raises(GatewayUnavailable, match="returned HTTP 503"):
            _gateway(plugin, settings).check_credentials()
    finally:
        fake.behave()
