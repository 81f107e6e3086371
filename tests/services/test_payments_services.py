"""Payment notifications on PostgreSQL with the Redis broker: replays and concurrent duplicates."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest

from bolletta.platform.demo.run import DemoResult, run_demo
from bolletta.platform.demo.tenant import DEMO_SLUG
from bolletta.platform.payments.gateways import save_gateway_settings
from bolletta.platform.settings import load_settings
from tests.fakes.nexi import FakeNexi
from tests.fakes.payment_provider import SentNotification
from tests.fakes.tls import TestCA
from tests.integration.payments.shop import NEXI_ALIAS, NEXI_API_KEY, NEXI_MAC_KEY, Shop

pytestmark = pytest.mark.services

COPIES = 5


@pytest.fixture(scope="module")
def shop(database_url: str, broker_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    settings = load_settings(
        environ={}, data_dir=str(tmp_path_factory.mktemp("payments-pg")), database_url=database_url,
        broker_url=broker_url, http_port=0, sftp_port=0, tenant_path_prefix=True, cookie_secure=False,
    )
    result: DemoResult = run_demo(settings, smtp_port=0)
    yield Shop(result=result, ca=TestCA(tmp_path_factory.mktemp("payments-pg-ca")))
    result.stack.stop()


@pytest.fixture(scope="module")
def fake_nexi(shop: Shop) -> Iterator[FakeNexi]:
    fake = FakeNexi(shop.ca, alias=NEXI_ALIAS, mac_key=NEXI_MAC_KEY, api_key=NEXI_API_KEY)
    save_gateway_settings(shop.rt, DEMO_SLUG, "nexi", {
        "mode": "classic", "alias": NEXI_ALIAS, "mac_key": NEXI_MAC_KEY, "api_base_url": fake.base_url,
        "ca_bundle": str(shop.ca.ca_path), "timeout_seconds": 5.0,
    })
    yield fake
    fake.stop()


def _pending_order(shop: Shop, fake: FakeNexi) -> tuple[int, str]:
    fake.behave(notify=False)
    token, bill = shop.new_bill()
    with shop.browser() as browser:
        summary = shop.open_summary(browser, token)
        hosted = shop.reach_gateway_page(browser, shop.press_pay(browser, bill, "nexi", summary.text))
        browser.post(hosted, data={"outcome": "pay"})
    (payment,) = shop.payments(bill.id)
    return bill.id, payment.order_id


def _post(fake: FakeNexi, order_id: str, params: dict[str, str]) -> SentNotification:
    return SentNotification("POST", fake.orders[order_id].notify_url,
                            {"Content-Type": "application/x-www-form-urlencoded"}, urlencode(params).encode())


def test_concurrent_copies_apply_once(shop: Shop, fake_nexi: FakeNexi) -> None:
    bill_id, order_id = _pending_order(shop, fake_nexi)
    copy = _post(fake_nexi, order_id, fake_nexi.classic_params(fake_nexi.orders[order_id], "OK"))

    with ThreadPoolExecutor(max_workers=COPIES) as pool:
        answers = list(pool.map(fake_nexi.send, [copy] * COPIES))

    assert [answer.status_code for answer in answers] == [200] * COPIES
    assert sorted(answer.text for answer in answers) == ["applied"] + ["duplicate"] * (COPIES - 1)
    assert [item.status for item in shop.payments(bill_id)] == ["completed"]
    assert shop.event_kinds(order_id) == ["payment_started", "payment_completed"]
    assert shop.bill(bill_id).paid_at is not None


def test_replayed_five_times_one_payment(shop: Shop, fake_nexi: FakeNexi) -> None:
    bill_id, order_id = _pending_order(shop, fake_nexi)
    copy = _post(fake_nexi, order_id, fake_nexi.classic_params(fake_nexi.orders[order_id], "OK"))

    first = fake_nexi.send(copy)
    replays = [fake_nexi.send(copy) for _ in range(COPIES)]

    assert first.text == "applied"
    assert [answer.text for answer in replays] == ["duplicate"] * COPIES
    assert [item.status for item in shop.payments(bill_id)] == ["completed"]
    assert [item.outcome for item in shop.notifications(order_id)] == ["applied"] + ["duplicate"] * COPIES
