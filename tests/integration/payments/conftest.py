"""The demo stack with every gateway enabled for tenant "acme", each pointed at its local fake.

One demo runs for the folder. Each test takes fresh bills from :meth:`Shop.new_bill`, so tests pass
in any order and never share an attempt. The fakes run over loopback TLS with a certificate from a
test CA that the gateway settings name as ``ca_bundle``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bolletta.platform.demo.run import DemoResult, run_demo
from bolletta.platform.demo.tenant import DEMO_SLUG
from bolletta.platform.payments.gateways import save_gateway_settings
from bolletta.platform.settings import load_settings
from tests.fakes.nexi import FakeNexi
from tests.fakes.tls import TestCA
from tests.integration.payments.shop import NEXI_ALIAS, NEXI_API_KEY, NEXI_MAC_KEY, Shop


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
        "ca_bundle": str(shop.ca.ca_path), "test_mode": True, "timeout_seconds": 2.0,
    })
    fake_nexi.behave()
    yield fake_nexi
    fake_nexi.behave()


@pytest.fixture()
def nexi_api(shop: Shop, fake_nexi: FakeNexi) -> Iterator[FakeNexi]:
    """Nexi in JSON API mode, happy path."""
    save_gateway_settings(shop.rt, DEMO_SLUG, "nexi", {
        "mode": "api", "api_key": NEXI_API_KEY, "api_base_url": fake_nexi.api_base_url,
        "ca_bundle": str(shop.ca.ca_path), "timeout_seconds": 2.0,
    })
    fake_nexi.behave()
    yield fake_nexi
    fake_nexi.behave()
