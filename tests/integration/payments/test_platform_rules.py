"""Platform rules around gateways: encrypted credentials, test-mode banner, refunds, the payments
list, concurrent notifications and a completion for an instalment already paid."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal

import msgspec
import pytest
from sqlalchemy import select

from bolletta.gateways.base import PaymentAttempt
from bolletta.gateways.errors import RefundNotSupported
from bolletta.gateways.nexi import mac
from bolletta.platform.db.models.platform import Tenant
from bolletta.platform.db.models.tenant import Ticket
from bolletta.platform.demo.tenant import DEMO_SLUG
from bolletta.platform.errors import ConfigurationError
from bolletta.platform.payments.gateways import gateway_for
from bolletta.platform.payments.queries import PaymentFilter, list_payments
from bolletta.platform.payments.service import PaymentNotAllowed, start_payment
from bolletta.tenants.registry import get_tenant, save_config, tenant_config
from tests.fakes.nexi import FakeNexi
from tests.fakes.payment_provider import SentNotification
from tests.fakes.paypal import FakePaypal
from tests.integration.payments.conftest import _configure_axerve, _configure_satispay
from tests.integration.payments.shop import NEXI_MAC_KEY, PAYPAL_SECRET, Shop

CONCURRENT = 5


def _stored_settings(shop: Shop) -> dict[str, object]:
    with shop.rt.db.platform_session() as session:
        tenant = session.scalars(select(Tenant).where(Tenant.slug == DEMO_SLUG)).one()
        return dict(tenant.settings)


@pytest.mark.usefixtures("nexi_classic", "paypal")
def test_credentials_encrypted_at_rest(shop: Shop) -> None:
    stored = json.dumps(_stored_settings(shop)["gateway_settings"])

    assert NEXI_MAC_KEY not in stored
    assert PAYPAL_SECRET not in stored
    assert '"mac_key": "enc:v1:' in stored
    config = tenant_config(get_tenant(shop.rt.db, DEMO_SLUG))
    gateway = gateway_for(shop.rt, DEMO_SLUG, config, "nexi")
    assert gateway.settings.mac_key == NEXI_MAC_KEY  # type: ignore[attr-defined]


@pytest.mark.usefixtures("nexi_classic")
def test_clear_or_undecryptable_secret_refused(shop: Shop) -> None:
    config = tenant_config(get_tenant(shop.rt.db, DEMO_SLUG))
    original = dict(config.gateway_settings["nexi"])
    try:
        cases = (("plain-text-key", "stored unencrypted"), ("enc:v1:bm90LWEtdG9rZW4=", "does not decrypt"))
        for value, message in cases:
            changed = {**config.gateway_settings, "nexi": {**original, "mac_key": value}}
            save_config(shop.rt.db, DEMO_SLUG, msgspec.structs.replace(config, gateway_settings=changed))
            with pytest.raises(ConfigurationError, match=message):
                gateway_for(shop.rt, DEMO_SLUG, tenant_config(get_tenant(shop.rt.db, DEMO_SLUG)), "nexi")
    finally:
        save_config(shop.rt.db, DEMO_SLUG, config)


@pytest.mark.usefixtures("nexi_classic", "paypal")
def test_test_mode_banner(shop: Shop) -> None:
    _token, bill = shop.new_bill()

    page = shop.summary(bill)

    assert "Modalità di prova: i pagamenti con PayPal non muovono denaro reale." in page
    assert "Modalità di prova: i pagamenti con Nexi XPay non muovono denaro reale." in page


@pytest.mark.usefixtures("nexi_classic", "paypal")
@pytest.mark.parametrize("gateway_id", ["nexi", "paypal", "axerve", "satispay", "sandbox"])
def test_refund_refused_with_clear_error(shop: Shop, gateway_id: str, request: pytest.FixtureRequest) -> None:
    if gateway_id == "axerve":
        _configure_axerve(shop, request.getfixturevalue("fake_axerve"))
    elif gateway_id == "satispay":
        _configure_satispay(shop, request.getfixturevalue("fake_satispay"), request.getfixturevalue("satispay_key"))
    config = tenant_config(get_tenant(shop.rt.db, DEMO_SLUG))
    gateway = gateway_for(shop.rt, DEMO_SLUG, config, gateway_id)
    attempt = PaymentAttempt(order_id="B" + "0" * 20, amount=Decimal("10.00"), currency="EUR",
                             created_at=datetime.now(UTC))

    assert gateway.capabilities.refund is False
    with pytest.raises(RefundNotSupported, match="refund the payment from the provider's merchant console"):
        gateway.refund(attempt, Decimal("10.00"))


@pytest.mark.usefixtures("nexi_classic")
def test_concurrent_notifications_apply_once(shop: Shop, fake_nexi: FakeNexi) -> None:
    fake_nexi.behave(notify=False)
    token, bill = shop.new_bill()
    with shop.browser() as browser:
        summary = shop.open_summary(browser, token)
        hosted = shop.reach_gateway_page(browser, shop.press_pay(browser, bill, "nexi", summary.text))
        browser.post(hosted, data={"outcome": "pay"})
    (payment,) = shop.payments(bill.id)
    order = fake_nexi.orders[payment.order_id]
    copies = [fake_nexi.classic_params(order, "OK") for _ in range(CONCURRENT)]
    for index, params in enumerate(copies):  # different events: each has its own time and auth code
        params["orario"] = f"10150{index}"
        params["mac"] = _classic_mac(params)
    posts = [SentNotification("POST", order.notify_url, {"Content-Type": "application/x-www-form-urlencoded"},
                              "&".join(f"{key}={value}" for key, value in params.items()).encode())
             for params in copies]

    with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
        answers = list(pool.map(fake_nexi.send, posts))

    assert [answer.status_code for answer in answers] == [200] * CONCURRENT
    assert sorted(answer.text for answer in answers) == ["applied"] + ["ignored"] * (CONCURRENT - 1)
    assert [item.status for item in shop.payments(bill.id)] == ["completed"]
    assert shop.event_kinds(payment.order_id) == ["payment_started", "payment_completed"]


def _classic_mac(params: dict[str, str]) -> str:
    names = ("codTrans", "esito", "importo", "divisa", "data", "orario", "codAut")
    return mac(*((name, params[name]) for name in names), key=NEXI_MAC_KEY)


@pytest.mark.usefixtures("nexi_classic")
def test_completion_for_paid_instalment_flagged(shop: Shop, fake_nexi: FakeNexi) -> None:
    fake_nexi.behave(notify=False)
    token, bill = shop.new_bill()
    orders = []
    for _ in range(2):
        with shop.browser() as browser:
            summary = shop.open_summary(browser, token)
            shop.reach_gateway_page(browser, shop.press_pay(browser, bill, "nexi", summary.text))
            orders.append(fake_nexi.orders[shop.payments(bill.id)[-1].order_id])
            if len(orders) == 1:
                shop.age(orders[0].merchant_order_id, 31)  # the first attempt looks abandoned
    for order in orders:
        order.status = "paid"
        answer = fake_nexi.send(SentNotification(
            "POST", order.notify_url, {"Content-Type": "application/x-www-form-urlencoded"},
            "&".join(f"{key}={value}" for key, value in fake_nexi.classic_params(order, "OK").items()).encode()))
        assert answer.text == "applied"

    first, second = shop.payments(bill.id)
    assert (first.status, second.status) == ("completed", "completed")
    assert (first.flag, second.flag) == (None, "already_paid")
    assert shop.bill(bill.id).paid_at is not None


@pytest.mark.usefixtures("paypal")
def test_payments_list_for_staff(shop: Shop, paypal: FakePaypal) -> None:
    bill, order_id, _after = shop.pay("paypal")
    shop.wait_for(order_id, "completed")

    with shop.rt.db.tenant_session(DEMO_SLUG) as session:
        everything = list_payments(session, PaymentFilter(), limit=None)
        paypal_only = list_payments(session, PaymentFilter(gateway="paypal", status="completed"), limit=None)
        nothing = list_payments(session, PaymentFilter(gateway="no-such-gateway"))

    row = next(item for item in paypal_only.rows if item.order_id == order_id)
    assert row.gateway == "paypal"
    assert row.transaction_id
    assert row.amount == Decimal("84.20")
    assert row.completed_at is not None
    assert row.document_number == bill.document_number
    assert all(item.gateway == "paypal" and item.status == "completed" for item in paypal_only.rows)
    assert paypal_only.completed_count == paypal_only.total_count == len(paypal_only.rows)
    assert paypal_only.completed_amount == sum((item.amount for item in paypal_only.rows), Decimal(0))
    assert everything.total_count >= paypal_only.total_count
    assert nothing.rows == []
    assert nothing.total_count == 0


@pytest.mark.usefixtures("nexi_classic")
def test_summary_csp_allows_gateway_pages(shop: Shop, paypal: FakePaypal, fake_nexi: FakeNexi) -> None:
    token, _bill = shop.new_bill()
    with shop.browser() as browser:
        summary = shop.open_summary(browser, token)

    policy = summary.headers["Content-Security-Policy"]
    form_action = next(part.split()[1:] for part in policy.split(";") if part.strip().startswith("form-action"))
    assert "'self'" in form_action
    assert "https://www.paypal.com" in form_action
    assert "https://ecommerce.nexi.it" in form_action
    assert paypal.base_url in form_action
    assert fake_nexi.base_url in form_action
    assert "https:" not in form_action


@pytest.mark.usefixtures("paypal")
def test_verifying_summary_refreshes(shop: Shop) -> None:
    token, bill = shop.new_bill()
    with shop.browser() as browser:
        summary = shop.open_summary(browser, token)
        shop.reach_gateway_page(browser, shop.press_pay(browser, bill, "paypal", summary.text))
        verifying = browser.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/sommario")

    assert 'class="status verifying"' in verifying.text
    assert '<meta http-equiv="refresh" content="10">' in verifying.text
    assert '<meta http-equiv="refresh"' not in summary.text


@pytest.mark.usefixtures("paypal")
def test_simultaneous_pay_clicks_open_one_attempt(shop: Shop) -> None:
    token, bill = shop.new_bill()
    with shop.rt.db.tenant_session(DEMO_SLUG) as session:
        ticket_id = session.scalars(select(Ticket.id).where(Ticket.bill_id == bill.id)).one()

    def click(_: int) -> str:
        try:
            return start_payment(shop.rt, DEMO_SLUG, bill.public_id, ticket_id, "paypal")
        except PaymentNotAllowed as exc:
            return f"refused:{exc.reason}"

    with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
        outcomes = list(pool.map(click, range(CONCURRENT)))

    refused = [outcome for outcome in outcomes if outcome.startswith("refused:")]
    assert len(refused) == CONCURRENT - 1, outcomes
    assert set(refused) == {"refused:pending"}
    assert len(shop.payments(bill.id)) == 1
    assert token
