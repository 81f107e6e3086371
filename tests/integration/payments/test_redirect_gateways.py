"""Axerve and Satispay against their fakes: the customer pages end to end and every failure case.

Both providers' notifications carry no proof of their own, so the plugins confirm each one with a
server-side status call; these tests check that a notification, a return or a replay never moves
a payment without that call agreeing.
"""

from __future__ import annotations

import time
from contextlib import closing
from decimal import Decimal

import httpx

from bolletta.platform.db.models.tenant import Bill
from bolletta.platform.demo.tenant import DEMO_SLUG
from bolletta.platform.payments.reconciliation import reconcile_tenant
from tests.fakes.payment_provider import FakeProvider
from tests.integration.payments.shop import PAID_MARK, VERIFYING_MARK, Shop

REPLAYS = 5
Gateway = tuple[str, FakeProvider]


def _start(shop: Shop, gateway_id: str) -> tuple[str, Bill, str, httpx.Client]:
    token, bill = shop.new_bill()
    browser = shop.browser()
    summary = shop.open_summary(browser, token)
    hosted = shop.reach_gateway_page(browser, shop.press_pay(browser, bill, gateway_id, summary.text))
    return token, bill, hosted, browser


def test_happy_path(shop: Shop, redirect_gateway: Gateway) -> None:
    gateway_id, _fake = redirect_gateway
    bill, order_id, after = shop.pay(gateway_id)

    payment = shop.wait_for(order_id, "completed")
    assert payment.amount == Decimal("84.20")
    assert payment.provider_reference
    assert shop.bill(bill.id).paid_at is not None
    assert VERIFYING_MARK in after.text or PAID_MARK in after.text
    assert PAID_MARK in shop.summary(bill)
    assert shop.event_kinds(order_id) == ["payment_started", "payment_completed"]


def test_forged_return_leaves_unpaid(shop: Shop, redirect_gateway: Gateway) -> None:
    gateway_id, _fake = redirect_gateway
    _token, bill, _hosted, browser = _start(shop, gateway_id)
    with closing(browser):
        (payment,) = shop.payments(bill.id)
        forged = browser.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/pagamento/{payment.order_id}/esito",
                             params={"esito": "OK", "a": "GESPAY12345", "status": "ACCEPTED"})
        after = browser.get(forged.headers["location"])

    time.sleep(0.5)
    assert VERIFYING_MARK in after.text
    assert PAID_MARK not in after.text
    assert shop.payment(payment.order_id).status == "pending"
    assert shop.bill(bill.id).paid_at is None


def test_replay_gives_one_payment(shop: Shop, redirect_gateway: Gateway) -> None:
    gateway_id, fake = redirect_gateway
    bill, order_id, _after = shop.pay(gateway_id)
    shop.wait_for(order_id, "completed")
    original = fake.sent[-1]

    answers = [fake.send(original) for _ in range(REPLAYS)]

    assert [answer.status_code for answer in answers] == [200] * REPLAYS
    assert [answer.text for answer in answers] == ["duplicate"] * REPLAYS
    assert [item.status for item in shop.payments(bill.id)] == ["completed"]
    assert shop.event_kinds(order_id) == ["payment_started", "payment_completed"]


def test_decline_leaves_payable(shop: Shop, redirect_gateway: Gateway) -> None:
    gateway_id, _fake = redirect_gateway
    bill, order_id, _after = shop.pay(gateway_id, outcome="fail")

    payment = shop.wait_for(order_id, "failed" if gateway_id == "axerve" else "cancelled")
    assert payment.completed_at is None
    assert shop.bill(bill.id).paid_at is None
    assert 'action="/c/' in shop.summary(bill)


def test_wrong_amount_is_mismatch(shop: Shop, redirect_gateway: Gateway) -> None:
    gateway_id, fake = redirect_gateway
    fake.behave(amount_delta=Decimal("-0.01"))
    bill, order_id, _after = shop.pay(gateway_id)

    time.sleep(0.5)
    assert fake.sent[-1].status == 409
    assert "mismatch" in [item.outcome for item in shop.notifications(order_id)]
    assert shop.payment(order_id).status == "pending"
    assert shop.bill(bill.id).paid_at is None


def test_lost_notification_confirmed_on_return(shop: Shop, redirect_gateway: Gateway) -> None:
    gateway_id, fake = redirect_gateway
    fake.behave(notify=False)
    bill, order_id, after = shop.pay(gateway_id)

    shop.wait_for(order_id, "completed")
    assert VERIFYING_MARK in after.text or PAID_MARK in after.text
    assert shop.bill(bill.id).paid_at is not None


def test_duplicate_late_notifications(shop: Shop, redirect_gateway: Gateway) -> None:
    gateway_id, fake = redirect_gateway
    fake.behave(notify_copies=3, notify_delay_seconds=0.3)
    sent_before = len(fake.sent)
    bill, order_id, _after = shop.pay(gateway_id)

    shop.wait_for(order_id, "completed")
    deadline = time.monotonic() + 10
    while len(fake.sent) < sent_before + 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(item.status for item in fake.sent[-3:]) == [200, 200, 200]
    assert [item.status for item in shop.payments(bill.id)] == ["completed"]
    assert shop.event_kinds(order_id) == ["payment_started", "payment_completed"]


def test_provider_down_refuses_start(shop: Shop, redirect_gateway: Gateway) -> None:
    gateway_id, fake = redirect_gateway
    token, bill = shop.new_bill()
    with shop.browser() as browser:
        summary = shop.open_summary(browser, token)
        fake.behave(api_status=500)
        failed = shop.press_pay(browser, bill, gateway_id, summary.text)
        fake.behave(api_delay_seconds=6)
        slow = shop.press_pay(browser, bill, gateway_id, summary.text)

    for response in (failed, slow):
        assert response.status_code == 303
        assert httpx.URL(response.headers["location"]).params["payment"] == "refused"
    assert [payment.status for payment in shop.payments(bill.id)] == ["failed", "failed"]


def test_second_attempt_blocked_then_rechecked(shop: Shop, redirect_gateway: Gateway) -> None:
    gateway_id, _fake = redirect_gateway
    _token, bill, _hosted, browser = _start(shop, gateway_id)
    with closing(browser):
        summary = browser.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/sommario")
        assert VERIFYING_MARK in summary.text
        blocked = browser.post(f"/c/{DEMO_SLUG}/b/{bill.public_id}/paga",
                               data={"gateway": gateway_id, "_csrf_token": browser.cookies["csrf"]})
        (first,) = shop.payments(bill.id)
        shop.age(first.order_id, 31)
        allowed = browser.post(f"/c/{DEMO_SLUG}/b/{bill.public_id}/paga",
                               data={"gateway": gateway_id, "_csrf_token": browser.cookies["csrf"]})

    assert httpx.URL(blocked.headers["location"]).params["payment"] == "pending"
    assert allowed.status_code == 303
    assert "payment=" not in allowed.headers["location"]
    statuses = [item.status for item in shop.payments(bill.id)]
    assert statuses == ["pending", "pending"]
    assert shop.payment(first.order_id).checked_at is not None


def test_stale_attempt_paid_at_gateway_blocks_retry(shop: Shop, redirect_gateway: Gateway) -> None:
    gateway_id, fake = redirect_gateway
    fake.behave(notify=False)
    _token, bill, hosted, browser = _start(shop, gateway_id)
    with closing(browser):
        browser.post(hosted, data={"outcome": "pay"})  # paid, but the customer never comes back
        (first,) = shop.payments(bill.id)
        shop.age(first.order_id, 31)
        retry = browser.post(f"/c/{DEMO_SLUG}/b/{bill.public_id}/paga",
                             data={"gateway": gateway_id, "_csrf_token": browser.cookies["csrf"]})

    assert httpx.URL(retry.headers["location"]).params["payment"] == "paid"
    assert [item.status for item in shop.payments(bill.id)] == ["completed"]
    assert shop.bill(bill.id).paid_at is not None


def test_reconciliation_settles_old_pending(shop: Shop, redirect_gateway: Gateway) -> None:
    gateway_id, fake = redirect_gateway
    fake.behave(notify=False)
    _token, bill, hosted, browser = _start(shop, gateway_id)
    with closing(browser):
        browser.post(hosted, data={"outcome": "pay"})
    (payment,) = shop.payments(bill.id)
    shop.age(payment.order_id, 60)

    young = reconcile_tenant(shop.rt, DEMO_SLUG)
    assert shop.payment(payment.order_id).status == "pending"
    shop.age(payment.order_id, 180)
    outcomes = reconcile_tenant(shop.rt, DEMO_SLUG)

    assert young.get("applied", 0) == 0 or shop.payment(payment.order_id).status == "completed"
    assert outcomes["applied"] >= 1
    assert shop.payment(payment.order_id).status == "completed"
    assert shop.bill(bill.id).paid_at is not None
