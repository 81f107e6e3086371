"""Nexi XPay against its fake, classic (form post, SHA-1 MAC) and JSON API (securityToken)."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import httpx
import pytest

from bolletta.platform.demo.tenant import DEMO_SLUG
from tests.fakes.nexi import FakeNexi
from tests.integration.payments.shop import PAID_MARK, VERIFYING_MARK, Shop

REPLAYS = 5


@pytest.mark.usefixtures("nexi_classic")
def test_classic_happy_path(shop: Shop, fake_nexi: FakeNexi) -> None:
    bill, order_id, after = shop.pay("nexi")

    payment = shop.wait_for(order_id, "completed")
    assert payment.amount == Decimal("84.20")
    assert payment.transaction_id
    assert payment.test_mode is True
    assert shop.bill(bill.id).paid_at is not None
    assert VERIFYING_MARK in after.text or PAID_MARK in after.text
    form_post = next(item for item in fake_nexi.requests
                     if item.path.endswith("DispatcherServlet") and f"codTrans={order_id}".encode() in item.body)
    assert b"importo=8420" in form_post.body
    assert b"descrizione=Bolletta+luce+n." in form_post.body
    assert shop.event_kinds(order_id) == ["payment_started", "payment_completed"]
    assert PAID_MARK in shop.summary(bill)


@pytest.mark.usefixtures("nexi_classic")
def test_classic_form_follows_english_choice(shop: Shop, fake_nexi: FakeNexi) -> None:
    token, bill = shop.new_bill()
    with shop.browser() as browser:
        shop.open_summary(browser, token)
        english = browser.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/sommario?lang=en")
        pressed = shop.press_pay(browser, bill, "nexi", english.text)
        form_page = browser.get(pressed.headers["location"])
    (payment,) = shop.payments(bill.id)

    assert form_page.status_code == 200
    assert '<html lang="en"' in form_page.text
    assert "Continue to payment" in form_page.text
    assert "Prosegui con il pagamento" not in form_page.text
    assert payment.provider_data["form"]["languageId"] == "ENG"


@pytest.mark.usefixtures("nexi_classic")
def test_classic_form_is_italian_by_default(shop: Shop, fake_nexi: FakeNexi) -> None:
    token, bill = shop.new_bill()
    with shop.browser() as browser:
        summary = shop.open_summary(browser, token)
        form_page = browser.get(shop.press_pay(browser, bill, "nexi", summary.text).headers["location"])
    (payment,) = shop.payments(bill.id)

    assert '<html lang="it"' in form_page.text
    assert "Prosegui con il pagamento" in form_page.text
    assert payment.provider_data["form"]["languageId"] == "ITA"


@pytest.mark.usefixtures("nexi_classic")
def test_classic_lost_notification_forged_params(shop: Shop, fake_nexi: FakeNexi) -> None:
    fake_nexi.behave(notify=False)
    bill, order_id, after = shop.pay("nexi")
    with shop.browser() as browser:
        forged = browser.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/pagamento/{order_id}/esito",
                             params={"esito": "OK", "importo": "1", "codTrans": order_id, "mac": "0" * 40})

    assert forged.status_code == 303
    assert VERIFYING_MARK in after.text or PAID_MARK in after.text
    # Only situazioneOrdine, queued by the return, settles the payment, at the stored amount. The
    # forged return queues a check too: it settles nothing, and is recorded as ignored when it runs
    # after the first check settled the payment.
    payment = shop.wait_for(order_id, "completed")
    outcomes = [item.outcome for item in shop.notifications(order_id)]
    assert payment.amount == Decimal("84.20")
    assert any(item.path.endswith("situazioneOrdine") for item in fake_nexi.requests)
    assert outcomes.count("applied") == 1
    assert set(outcomes) <= {"applied", "ignored"}


@pytest.mark.usefixtures("nexi_classic")
def test_classic_forged_return_without_payment(shop: Shop, fake_nexi: FakeNexi) -> None:
    token, bill = shop.new_bill()
    with shop.browser() as browser:
        summary = shop.open_summary(browser, token)
        shop.reach_gateway_page(browser, shop.press_pay(browser, bill, "nexi", summary.text))
        (payment,) = shop.payments(bill.id)
        forged = browser.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/pagamento/{payment.order_id}/esito",
                             params={"esito": "OK", "importo": "1", "codTrans": payment.order_id})
        after = browser.get(forged.headers["location"])

    assert VERIFYING_MARK in after.text
    assert PAID_MARK not in after.text
    assert shop.payment(payment.order_id).status == "pending"
    assert shop.bill(bill.id).paid_at is None


@pytest.mark.usefixtures("nexi_classic")
def test_classic_replay_gives_one_payment(shop: Shop, fake_nexi: FakeNexi) -> None:
    bill, order_id, _after = shop.pay("nexi")
    shop.wait_for(order_id, "completed")
    original = fake_nexi.sent[-1]

    answers = [fake_nexi.send(original) for _ in range(REPLAYS)]

    assert [answer.status_code for answer in answers] == [200] * REPLAYS
    assert [answer.text for answer in answers] == ["duplicate"] * REPLAYS
    assert [item.status for item in shop.payments(bill.id)] == ["completed"]
    assert shop.event_kinds(order_id) == ["payment_started", "payment_completed"]


@pytest.mark.usefixtures("nexi_classic")
def test_classic_bad_mac_rejected(shop: Shop, fake_nexi: FakeNexi) -> None:
    fake_nexi.behave(forge=True)
    before = shop.rejected_count("nexi")
    token, bill = shop.new_bill()
    with shop.browser() as browser:
        summary = shop.open_summary(browser, token)
        hosted = shop.reach_gateway_page(browser, shop.press_pay(browser, bill, "nexi", summary.text))
        fake_nexi.behave(forge=True, notify=True)
        browser.post(hosted, data={"outcome": "pay"})
    (payment,) = shop.payments(bill.id)

    assert fake_nexi.sent[-1].status == 400
    assert shop.rejected_count("nexi") == before + 1
    assert shop.payment(payment.order_id).status == "pending"
    assert shop.bill(bill.id).paid_at is None


@pytest.mark.usefixtures("nexi_classic")
def test_classic_wrong_amount_is_mismatch(shop: Shop, fake_nexi: FakeNexi) -> None:
    fake_nexi.behave(amount_delta=Decimal("-84.19"))
    token, bill = shop.new_bill()
    with shop.browser() as browser:
        summary = shop.open_summary(browser, token)
        hosted = shop.reach_gateway_page(browser, shop.press_pay(browser, bill, "nexi", summary.text))
        browser.post(hosted, data={"outcome": "pay"})
    (payment,) = shop.payments(bill.id)

    assert fake_nexi.sent[-1].status == 409
    assert [item.outcome for item in shop.notifications(payment.order_id)] == ["mismatch"]
    assert shop.payment(payment.order_id).status == "pending"
    assert shop.bill(bill.id).paid_at is None


@pytest.mark.usefixtures("nexi_classic")
def test_classic_declined_then_out_of_order(shop: Shop, fake_nexi: FakeNexi) -> None:
    fake_nexi.behave(out_of_order=True)
    bill, order_id, after = shop.pay("nexi", outcome="fail")

    shop.wait_for(order_id, "failed")
    assert [item.status for item in fake_nexi.sent[-2:]] == [200, 200]
    assert shop.payment(order_id).status == "failed"
    assert shop.bill(bill.id).paid_at is None
    assert 'action="/c/' in after.text


@pytest.mark.usefixtures("nexi_classic")
def test_classic_cancel_leaves_payable(shop: Shop) -> None:
    bill, order_id, _after = shop.pay("nexi", outcome="cancel")

    shop.wait_for(order_id, "cancelled")
    assert shop.bill(bill.id).paid_at is None


@pytest.mark.usefixtures("nexi_classic")
def test_classic_duplicate_and_late_notifications(shop: Shop, fake_nexi: FakeNexi) -> None:
    fake_nexi.behave(notify_copies=3, notify_delay_seconds=0.5)
    sent_before = len(fake_nexi.sent)
    bill, order_id, _after = shop.pay("nexi")

    shop.wait_for(order_id, "completed")
    while len(fake_nexi.sent) < sent_before + 3:
        time.sleep(0.05)
    assert sorted(item.status for item in fake_nexi.sent[-3:]) == [200, 200, 200]
    assert [item.status for item in shop.payments(bill.id)] == ["completed"]
    assert shop.event_kinds(order_id) == ["payment_started", "payment_completed"]


@pytest.mark.usefixtures("nexi_api")
def test_api_happy_path(shop: Shop, fake_nexi: FakeNexi) -> None:
    bill, order_id, _after = shop.pay("nexi")

    payment = shop.wait_for(order_id, "completed")
    assert payment.provider_data["securityToken"]
    assert payment.transaction_id
    assert shop.bill(bill.id).paid_at is not None
    create = next(item for item in fake_nexi.requests if item.path.endswith("/orders/hpp"))
    assert json.loads(create.body)["order"]["amount"] == "8420"


@pytest.mark.usefixtures("nexi_api")
def test_api_forged_token_rejected(shop: Shop, fake_nexi: FakeNexi) -> None:
    fake_nexi.behave(forge=True, notify=True)
    before = shop.rejected_count("nexi")
    token, bill = shop.new_bill()
    with shop.browser() as browser:
        summary = shop.open_summary(browser, token)
        hosted = shop.reach_gateway_page(browser, shop.press_pay(browser, bill, "nexi", summary.text))
        browser.post(hosted, data={"outcome": "pay"})

    assert fake_nexi.sent[-1].status == 400
    assert shop.rejected_count("nexi") == before + 1
    assert shop.bill(bill.id).paid_at is None


@pytest.mark.usefixtures("nexi_api")
def test_api_replay_gives_one_payment(shop: Shop, fake_nexi: FakeNexi) -> None:
    bill, order_id, _after = shop.pay("nexi")
    shop.wait_for(order_id, "completed")
    original = fake_nexi.sent[-1]

    answers = [fake_nexi.send(original) for _ in range(REPLAYS)]

    assert [answer.text for answer in answers] == ["duplicate"] * REPLAYS
    assert [item.status for item in shop.payments(bill.id)] == ["completed"]


@pytest.mark.usefixtures("nexi_api")
def test_api_timeout_on_create(shop: Shop, fake_nexi: FakeNexi) -> None:
    fake_nexi.behave(api_delay_seconds=6)
    token, bill = shop.new_bill()
    with shop.browser() as browser:
        summary = shop.open_summary(browser, token)
        pressed = shop.press_pay(browser, bill, "nexi", summary.text)

    assert pressed.status_code == 303
    assert httpx.URL(pressed.headers["location"]).params["payment"] == "refused"
    assert shop.bill(bill.id).paid_at is None
    assert [payment.status for payment in shop.payments(bill.id)] == ["failed"]


@pytest.mark.usefixtures("nexi_api")
def test_api_forged_return_leaves_unpaid(shop: Shop, fake_nexi: FakeNexi) -> None:
    token, bill = shop.new_bill()
    with shop.browser() as browser:
        summary = shop.open_summary(browser, token)
        shop.reach_gateway_page(browser, shop.press_pay(browser, bill, "nexi", summary.text))
        (payment,) = shop.payments(bill.id)
        forged = browser.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/pagamento/{payment.order_id}/esito",
                             params={"paymentId": "forged", "operationResult": "AUTHORIZED"})
        after = browser.get(forged.headers["location"])
    deadline = time.monotonic() + 10
    while not any(item.path.endswith(f"/orders/{payment.order_id}") for item in fake_nexi.requests):
        assert time.monotonic() < deadline, "the return did not query the order"
        time.sleep(0.05)

    assert VERIFYING_MARK in after.text
    assert shop.payment(payment.order_id).status == "pending"
    assert shop.bill(bill.id).paid_at is None
