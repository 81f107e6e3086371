"""The demo stack with every gateway enabled for tenant "acme", each pointed at its local fake.

One demo runs for the folder. Each test takes fresh bills from :meth:`Shop.new_bill`, so tests pass
in any order and never share an attempt. The fakes run over loopback TLS with a certificate from a
test CA that the gateway settings name as ``ca_bundle``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bolletta.platform.demo.run import DemoResult, run_demo
from bolletta.platform.demo.tenant import DEMO_SLUG
from bolletta.platform.payments.gateways import save_gateway_settings
from bolletta.platform.settings import load_settings
from tests.fakes.axerve import FakeAxerve
from tests.fakes.nexi import FakeNexi
from tests.fakes.payment_provider import FakeProvider
from tests.fakes.paypal import FakePaypal
from tests.fakes.satispay import FakeSatispay
from tests.fakes.tls import TestCA
from tests.integration.payments.shop import (
    AXERVE_API_KEY,
    AXERVE_SHOP,
    NEXI_ALIAS,
    NEXI_API_KEY,
    NEXI_MAC_KEY,
    PAYPAL_CLIENT_ID,
    PAYPAL_MERCHANT_ID,
    PAYPAL_SECRET,
    PAYPAL_WEBHOOK_ID,
    SATISPAY_KEY_ID,
    Shop,
)


@pytest.fixture(scope="package")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoResult]:
    data_dir: Path = tmp_path_factory.mktemp("payments-demo")
    settings = load_settings(environ={}, data_dir=str(data_dir), http_port=0, sftp_port=0,
                             tenant_path_prefix=True, cookie_secure=False)
    result = run_demo(settings, smtp_port=0)
    try:
        yield result
    finally:
        result.stack.stop()


@pytest.fixture(scope="package")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    return TestCA(tmp_path_factory.mktemp("test-ca"))


@pytest.fixture(scope="package")
def fake_nexi(test_ca: TestCA) -> Iterator[FakeNexi]:
    fake = FakeNexi(test_ca, alias=NEXI_ALIAS, mac_key=NEXI_MAC_KEY, api_key=NEXI_API_KEY)
    yield fake
    fake.stop()


@pytest.fixture(scope="package")
def shop(demo: DemoResult, test_ca: TestCA) -> Shop:
    return Shop(result=demo, ca=test_ca)


@pytest.fixture()
def nexi_classic(shop: Shop, fake_nexi: FakeNexi) -> Iterator[FakeNexi]:
    """Nexi in classic mode, happy path."""
    save_gateway_settings(shop.rt, DEMO_SLUG, "nexi", {
        "mode": "classic", "alias": NEXI_ALIAS, "mac_key": NEXI_MAC_KEY, "api_base_url": fake_nexi.base_url,
        "ca_bundle": str(shop.ca.ca_path), "test_mode": True, "timeout_seconds": 5.0,
    })
    fake_nexi.behave()
    yield fake_nexi
    fake_nexi.behave()


@pytest.fixture()
def nexi_api(shop: Shop, fake_nexi: FakeNexi) -> Iterator[FakeNexi]:
    """Nexi in JSON API mode, happy path."""
    save_gateway_settings(shop.rt, DEMO_SLUG, "nexi", {
        "mode": "api", "api_key": NEXI_API_KEY, "api_base_url": fake_nexi.api_base_url,
        "ca_bundle": str(shop.ca.ca_path), "timeout_seconds": 5.0,
    })
    fake_nexi.behave()
    yield fake_nexi
    fake_nexi.behave()


@pytest.fixture(scope="package")
def fake_axerve(test_ca: TestCA) -> Iterator[FakeAxerve]:
    fake = FakeAxerve(test_ca, shop_login=AXERVE_SHOP, api_key=AXERVE_API_KEY)
    yield fake
    fake.stop()


@pytest.fixture(scope="package")
def satispay_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="package")
def fake_satispay(test_ca: TestCA, satispay_key: rsa.RSAPrivateKey) -> Iterator[FakeSatispay]:
    fake = FakeSatispay(test_ca, key_id=SATISPAY_KEY_ID, public_key=satispay_key.public_key())
    yield fake
    fake.stop()


def _configure_axerve(shop: Shop, fake: FakeAxerve) -> None:
    save_gateway_settings(shop.rt, DEMO_SLUG, "axerve", {
        "shop_login": AXERVE_SHOP, "api_key": AXERVE_API_KEY, "api_base_url": fake.api_base_url,
        "ca_bundle": str(shop.ca.ca_path), "timeout_seconds": 5.0,
    })


def _configure_satispay(shop: Shop, fake: FakeSatispay, key: rsa.RSAPrivateKey) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    save_gateway_settings(shop.rt, DEMO_SLUG, "satispay", {
        "key_id": SATISPAY_KEY_ID, "private_key": pem, "api_base_url": fake.api_base_url,
        "ca_bundle": str(shop.ca.ca_path), "timeout_seconds": 5.0,
    })


@pytest.fixture(params=["axerve", "satispay"])
def redirect_gateway(request: pytest.FixtureRequest, shop: Shop) -> Iterator[tuple[str, FakeProvider]]:
    """A gateway that redirects to a hosted page, configured against its fake, happy path."""
    gateway_id = request.param
    fake: FakeProvider
    if gateway_id == "axerve":
        fake = request.getfixturevalue("fake_axerve")
        _configure_axerve(shop, fake)  # type: ignore[arg-type]
    else:
        fake = request.getfixturevalue("fake_satispay")
        _configure_satispay(shop, fake, request.getfixturevalue("satispay_key"))  # type: ignore[arg-type]
    fake.behave()
    yield gateway_id, fake
    fake.behave()


@pytest.fixture(scope="package")
def fake_paypal(test_ca: TestCA, shop: Shop) -> Iterator[FakePaypal]:
    fake = FakePaypal(test_ca, client_id=PAYPAL_CLIENT_ID, client_secret=PAYPAL_SECRET,
                      webhook_id=PAYPAL_WEBHOOK_ID, merchant_id=PAYPAL_MERCHANT_ID)
    fake.webhook_url = f"{shop.base_url}/hooks/gateways/paypal/{DEMO_SLUG}"
    yield fake
    fake.stop()


def configure_paypal(shop: Shop, fake: FakePaypal, **changes: object) -> None:
    """Point the tenant's PayPal settings at the fake, trusting the test CA for webhook certificates."""
    save_gateway_settings(shop.rt, DEMO_SLUG, "paypal", {
        "client_id": PAYPAL_CLIENT_ID, "client_secret": PAYPAL_SECRET, "webhook_id": PAYPAL_WEBHOOK_ID,
        "merchant_id": PAYPAL_MERCHANT_ID, "api_base_url": fake.base_url, "ca_bundle": str(shop.ca.ca_path),
        "cert_hosts": ["127.0.0.1"], "trust_anchor": str(shop.ca.ca_path), "timeout_seconds": 5.0,
        "test_mode": True, **changes,
    })


@pytest.fixture()
def paypal(shop: Shop, fake_paypal: FakePaypal) -> Iterator[FakePaypal]:
    """PayPal against its fake, offline webhook verification, happy path."""
    configure_paypal(shop, fake_paypal)
    fake_paypal.behave()
    yield fake_paypal
    fake_paypal.behave()
