"""PayPal against its fake: approve, capture on return, signed webhooks and every failure case."""

from __future__ import annotations

import time
from decimal import Decimal

import httpx
import pytest

from bolletta.platform.demo.tenant import DEMO_SLUG
from tests.fakes.payment_provider import FakeOrder, SentNotification
from tests.fakes.paypal import FakePaypal
from tests.integration.payments.conftest import configure_paypal
from tests.integration.payments.shop import PAID_MARK, VERIFYING_MARK, Shop

REPLAYS = 5
WAIT_SECONDS = 10.0


def _wait_sent(fake: FakePaypal, before: int, count: int = 1) -> list[SentNotification]:
    """Wait for ``count`` webhooks after the first ``before`` and return them."""
    deadline = time.monotonic() + WAIT_SECONDS
    while len(fake.sent) < before + count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(fake.sent) >= before + count, "the fake did not send the webhooks expected"
    return fake.sent[before:before + count]


def _paid_order(shop: Shop, fake: FakePaypal) -> tuple[str, FakeOrder, SentNotification]:
    sent_before = len(fake.sent)
    _bill, order_id, _after = shop.pay("paypal")
    shop.wait_for(order_id, "completed")
    (webhook,) = _wait_sent(fake, sent_before)
    order = fake.orders[shop.payment(order_id).provider_reference or ""]
    return order_id, order, webhook


def test_happy_path(shop: Shop, paypal: FakePaypal) -> None:
    sent_before = len(paypal.sent)
    bill, order_id, after = shop.pay("paypal")

    payment = shop.wait_for(order_id, "completed")
    (webhook,) = _wait_sent(paypal, sent_before)
    assert webhook.status == 200
    order = paypal.orders[payment.provider_reference or ""]
    assert payment.transaction_id == order.data["captures"][0]["id"]  # type: ignore[index]
    assert payment.amount == Decimal("84.20")
    assert VERIFYING_MARK in after.text or PAID_MARK in after.text
    assert PAID_MARK in shop.summary(bill)
    create = next(item for item in paypal.requests if item.path == "/v2/checkout/orders")
    assert create.header("PayPal-Request-Id") == order_id
    captures = [item for item in paypal.requests if item.path.endswith(f"{order.key}/capture")]
    assert [item.header("PayPal-Request-Id") for item in captures] == [f"{order_id}-capture"]
    assert shop.event_kinds(order_id) == ["payment_started", "payment_completed"]


def test_forged_return_leaves_unpaid(shop: Shop, paypal: FakePaypal) -> None:
    token, bill = shop.new_bill()
    with shop.browser() as browser:
        summary = shop.open_summary(browser, token)
        shop.reach_gateway_page(browser, shop.press_pay(browser, bill, "paypal", summary.text))
        (payment,) = shop.payments(bill.id)
        forged = browser.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/pagamento/{payment.order_id}/esito",
                             params={"token": payment.provider_reference, "PayerID": "FORGED"})
        after = browser.get(forged.headers["location"])
    deadline = time.monotonic() + WAIT_SECONDS
    while not any(item.path.endswith("/capture") and payment.provider_reference in item.path
                  for item in paypal.requests) and time.monotonic() < deadline:
        time.sleep(0.05)

    assert VERIFYING_MARK in after.text
    assert PAID_MARK not in after.text
    assert shop.payment(payment.order_id).status == "pending"
    assert shop.bill(bill.id).paid_at is None


def test_replay_gives_one_payment(shop: Shop, paypal: FakePaypal) -> None:
    order_id, _order, webhook = _paid_order(shop, paypal)

    answers = [paypal.send(webhook) for _ in range(REPLAYS)]

    assert [answer.status_code for answer in answers] == [200] * REPLAYS
    assert [answer.text for answer in answers] == ["duplicate"] * REPLAYS
    assert shop.event_kinds(order_id) == ["payment_started", "payment_completed"]
    assert shop.payment(order_id).status == "completed"


def test_forged_webhook_rejected(shop: Shop, paypal: FakePaypal) -> None:
    paypal.behave(forge=True)
    before = shop.rejected_count("paypal")
    sent_before = len(paypal.sent)
    _bill, order_id, _after = shop.pay("paypal")

    (webhook,) = _wait_sent(paypal, sent_before)
    assert webhook.status == 400
    assert shop.rejected_count("paypal") == before + 1
    # The capture call's own answer is authoritative, so the payment still completes.
    assert shop.wait_for(order_id, "completed").transaction_id


@pytest.mark.parametrize("case", ["cert host", "webhook id", "body changed", "no signature"])
def test_tampered_webhooks_rejected(shop: Shop, paypal: FakePaypal, case: str) -> None:
    order_id, _order, webhook = _paid_order(shop, paypal)
    headers, body = dict(webhook.headers), webhook.body
    if case == "cert host":
        headers["PAYPAL-CERT-URL"] = "https://paypal.attacker.example/v1/notifications/certs/CERT-1"
    elif case == "webhook id":
        configure_paypal(shop, paypal, webhook_id="OTHERTENANTWEBHOOK")
    elif case == "body changed":
        body = body.replace(b'"84.20"', b'"0.01"')
    else:
        del headers["PAYPAL-TRANSMISSION-SIG"]
    requests_before = len(paypal.requests)

    answer = paypal.send(SentNotification("POST", webhook.url, headers, body))

    assert answer.status_code == 400
    assert answer.text == "rejected"
    if case == "cert host":
        assert all("attacker" not in item.path for item in paypal.requests[requests_before:])
    assert shop.event_kinds(order_id) == ["payment_started", "payment_completed"]


def test_wrong_amount_is_mismatch(shop: Shop, paypal: FakePaypal) -> None:
    paypal.behave(amount_delta=Decimal("-84.19"))
    sent_before = len(paypal.sent)
    bill, order_id, _after = shop.pay("paypal")

    (webhook,) = _wait_sent(paypal, sent_before)
    assert webhook.status == 409
    assert "mismatch" in [item.outcome for item in shop.notifications(order_id)]
    assert shop.payment(order_id).status == "pending"
    assert shop.bill(bill.id).paid_at is None


def test_declined_capture_fails(shop: Shop, paypal: FakePaypal) -> None:
    bill, order_id, _after = shop.pay("paypal", outcome="fail")

    payment = shop.wait_for(order_id, "failed")
    assert "INSTRUMENT_DECLINED" in (payment.failure_reason or "")
    assert shop.bill(bill.id).paid_at is None


def test_cancel_leaves_unpaid(shop: Shop, paypal: FakePaypal) -> None:
    bill, order_id, after = shop.pay("paypal", outcome="cancel")

    time.sleep(0.5)
    assert shop.payment(order_id).status == "pending"
    assert shop.bill(bill.id).paid_at is None
    assert PAID_MARK not in after.text


def test_out_of_order_pending_after_completed(shop: Shop, paypal: FakePaypal) -> None:
    paypal.behave(out_of_order=True)
    sent_before = len(paypal.sent)
    bill, order_id, _after = shop.pay("paypal")

    shop.wait_for(order_id, "completed")
    webhooks = _wait_sent(paypal, sent_before, 2)
    assert [item.status for item in webhooks] == [200, 200]
    assert shop.payment(order_id).status == "completed"
    assert shop.bill(bill.id).paid_at is not None


def test_postback_verification(shop: Shop, paypal: FakePaypal) -> None:
    configure_paypal(shop, paypal, verification="postback")
    sent_before = len(paypal.sent)
    order_id = shop.pay("paypal")[1]

    shop.wait_for(order_id, "completed")
    (webhook,) = _wait_sent(paypal, sent_before)
    assert webhook.status == 200
    assert any(item.path == "/v1/notifications/verify-webhook-signature" for item in paypal.requests)


def test_wrong_client_secret_refuses_start(shop: Shop, paypal: FakePaypal) -> None:
    configure_paypal(shop, paypal, client_secret="not-the-secret")
    token, bill = shop.new_bill()
    with shop.browser() as browser:
        summary = shop.open_summary(browser, token)
        pressed = shop.press_pay(browser, bill, "paypal", summary.text)

    assert httpx.URL(pressed.headers["location"]).params["payment"] == "refused"
    assert [payment.status for payment in shop.payments(bill.id)] == ["failed"]


def test_return_urls_fixed_per_attempt(shop: Shop, paypal: FakePaypal) -> None:
    token, bill = shop.new_bill()
    with shop.browser() as browser:
        summary = shop.open_summary(browser, token)
        csrf = summary.text.split('name="_csrf_token" value="', 1)[1].split('"', 1)[0]
        pressed = browser.post(f"/c/{DEMO_SLUG}/b/{bill.public_id}/paga", data={
            "gateway": "paypal", "_csrf_token": csrf, "return_url": "https://evil.example/",
            "cancel_url": "//evil.example", "amount": "0.01",
        })
    assert pressed.status_code == 303
    (payment,) = shop.payments(bill.id)
    order = paypal.orders[payment.provider_reference or ""]
    attempt_url = f"{shop.base_url}/c/{DEMO_SLUG}/b/{bill.public_id}/pagamento/{payment.order_id}"

    assert order.return_url == f"{attempt_url}/esito"
    assert order.cancel_url == f"{attempt_url}/annullato"
    assert order.amount == Decimal("84.20")
    assert payment.amount == Decimal("84.20")
