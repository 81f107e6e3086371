"""Callbacks that only trigger a status call: another shop's, unknown payments, a bad signing key."""

from __future__ import annotations

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bolletta.platform.demo.tenant import DEMO_SLUG
from bolletta.platform.payments.gateways import save_gateway_settings
from tests.fakes.axerve import FakeAxerve
from tests.fakes.satispay import FakeSatispay
from tests.integration.payments.conftest import _configure_axerve, _configure_satispay
from tests.integration.payments.shop import SATISPAY_KEY_ID, Shop


def test_axerve_other_shop_rejected(shop: Shop, fake_axerve: FakeAxerve) -> None:
    _configure_axerve(shop, fake_axerve)
    fake_axerve.behave(forge=True)
    before = shop.rejected_count("axerve")
    token, bill = shop.new_bill()
    with shop.browser() as browser:
        summary = shop.open_summary(browser, token)
        hosted = shop.reach_gateway_page(browser, shop.press_pay(browser, bill, "axerve", summary.text))
        browser.post(hosted, data={"outcome": "pay"})
    fake_axerve.behave()
    (payment,) = shop.payments(bill.id)

    assert fake_axerve.sent[-1].status == 400
    assert shop.rejected_count("axerve") == before + 1
    assert shop.payment(payment.order_id).status == "pending"
    assert shop.bill(bill.id).paid_at is None


@pytest.mark.parametrize("query", [{"order": "Bdoesnotexist0000000x"}, {}])
def test_axerve_unknown_order_rejected(shop: Shop, fake_axerve: FakeAxerve, query: dict[str, str]) -> None:
    _configure_axerve(shop, fake_axerve)
    response = httpx.get(f"{shop.base_url}/hooks/gateways/axerve/{DEMO_SLUG}", params=query)

    assert response.status_code == 400


def test_satispay_unknown_payment_rejected(shop: Shop, fake_satispay: FakeSatispay,
                                           satispay_key: rsa.RSAPrivateKey) -> None:
    _configure_satispay(shop, fake_satispay, satispay_key)
    before = shop.rejected_count("satispay")

    response = httpx.get(f"{shop.base_url}/hooks/gateways/satispay/{DEMO_SLUG}",
                         params={"payment_id": "1d6c5b7e-0000-4000-8000-000000000000"})

    assert response.status_code == 400
    assert shop.rejected_count("satispay") == before + 1


def test_satispay_wrong_key_refused(shop: Shop, fake_satispay: FakeSatispay) -> None:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()).decode()
    save_gateway_settings(shop.rt, DEMO_SLUG, "satispay", {
        "key_id": SATISPAY_KEY_ID, "private_key": pem, "api_base_url": fake_satispay.api_base_url,
        "ca_bundle": str(shop.ca.ca_path), "timeout_seconds": 5.0,
    })
    token, bill = shop.new_bill()
    with shop.browser() as browser:
        summary = shop.open_summary(browser, token)
        pressed = shop.press_pay(browser, bill, "satispay", summary.text)

    assert httpx.URL(pressed.headers["location"]).params["payment"] == "refused"
    assert [payment.status for payment in shop.payments(bill.id)] == ["failed"]
    assert fake_satispay.requests[-1].path.endswith("/payments")
