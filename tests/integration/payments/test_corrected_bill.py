"""A payment for a bill the utility re-issued with another amount, and another tenant's signed callback.

The customer starts paying €80.00; a corrected bill of €95.00 for the same customer, supply and
period arrives in a later job before Nexi's notification. The payment belongs to the €80 attempt
and its bill, the corrected bill stays unpaid, and staff see the payment flagged.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select, update

from bolletta.gateways.nexi import mac
from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Bill, Instalment, Job, Payment
from bolletta.platform.demo.tenant import DEMO_SLUG
from bolletta.platform.office import payment_search
from bolletta.platform.office.listing import Paging
from bolletta.platform.payments.corrections import CORRECTED_FLAG, flag_payments_of_corrected
from bolletta.platform.payments.gateways import save_gateway_settings
from bolletta.platform.tokens import random_base62
from bolletta.tenants.registry import create_tenant, get_tenant, tenant_config
from tests.fakes.nexi import FakeNexi
from tests.fakes.payment_provider import FakeOrder, SentNotification
from tests.integration.payments.shop import Shop
from tests.integration.stack_support import sign_in

PERIOD = (date(2026, 9, 1), date(2026, 10, 31))
OTHER_ALIAS = "ALIAS_WEB_00099999"
OTHER_MAC_KEY = "other-tenant-mac-key-9876543210"
CORRECTED_LABEL_IT = "Bolletta riemessa con un altro importo"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _bill_for_period(shop: Shop, amount: Decimal) -> Bill:
    """A fresh payable bill of ``amount`` for its own customer, billed for :data:`PERIOD`."""
    _token, bill = shop.new_bill(amount)
    with shop.rt.db.tenant_session(DEMO_SLUG) as session:
        session.execute(update(Bill).where(Bill.id == bill.id).values(
            customer_code=f"C-{random_base62(8)}", period_from=PERIOD[0], period_to=PERIOD[1], pod="IT001E12345678"))
        session.commit()
    return shop.bill(bill.id)


def _reissue(shop: Shop, bill: Bill, amount: Decimal, **changes: object) -> Bill:
    """Store a re-issue of ``bill`` for ``amount`` in a job of its own, as a later upload would."""
    now = clock.now()
    with shop.rt.db.tenant_session(DEMO_SLUG) as session:
        job = Job(state="test_sent", filename="rettifica.zip", source="api", archive_sha256=random_base62(40),
                  archive_key=f"jobs/{random_base62(10)}.zip", archive_size=1, opened_by="api:test",
                  created_at=now, updated_at=now)
        session.add(job)
        session.flush()
        values: dict[str, object] = {
            "public_id": random_base62(22), "job_id": job.id, "source_file": "rettifica.xml",
            "document_number": f"2026/R/{random_base62(8)}", "series": "R", "year": 2026, "document_type": "TD01",
            "issue_date": bill.issue_date + timedelta(days=3), "due_date": bill.due_date, "currency": "EUR",
            "total": amount, "amount_due": amount, "service": bill.service, "customer_code": bill.customer_code,
            "customer_name": bill.customer_name, "period_from": bill.period_from, "period_to": bill.period_to,
            "pod": bill.pod, "created_at": now, **changes,
        }
        corrected = Bill(**values)
        corrected.instalments.append(Instalment(position=1, amount=amount, due_date=bill.due_date))
        session.add(corrected)
        session.flush()
        flag_payments_of_corrected(session, job.id)
        session.commit()
        return shop.bill(corrected.id)


def _start_attempt(shop: Shop, bill: Bill, fake: FakeNexi) -> FakeOrder:
    """Press "Paga online" for ``bill`` and reach Nexi's page, without Nexi notifying yet."""
    fake.behave(notify=False)
    with shop.browser() as browser:
        summary = shop.open_summary(browser, shop.tokens[bill.id])
        shop.reach_gateway_page(browser, shop.press_pay(browser, bill, "nexi", summary.text))
    (payment,) = shop.payments(bill.id)
    order = fake.orders[payment.order_id]
    order.status = "paid"
    return order


def _notify(fake: FakeNexi, order: FakeOrder, url: str | None = None) -> httpx.Response:
    body = "&".join(f"{key}={value}" for key, value in fake.classic_params(order, "OK").items()).encode()
    return fake.send(SentNotification("POST", url or order.notify_url, FORM, body))


def _staff_row(shop: Shop, order_id: str) -> payment_search.PaymentRow:
    with shop.rt.db.tenant_session(DEMO_SLUG) as session:
        rows = payment_search.search_payments(session, payment_search.PaymentFilters(),
                                              Paging(page=1, size=500, sort="date", descending=True))
    return next(row for row in rows if row.order_id == order_id)


@pytest.mark.usefixtures("nexi_classic")
def test_corrected_before_callback_flagged(shop: Shop, fake_nexi: FakeNexi) -> None:
    bill = _bill_for_period(shop, Decimal("80.00"))
    order = _start_attempt(shop, bill, fake_nexi)
    corrected = _reissue(shop, bill, Decimal("95.00"))

    answer = _notify(fake_nexi, order)

    assert answer.text == "applied"
    (payment,) = shop.payments(bill.id)
    assert payment.status == "completed"
    assert payment.amount == Decimal("80.00")
    assert payment.flag == CORRECTED_FLAG
    assert shop.bill(bill.id).paid_at is not None
    assert shop.payments(corrected.id) == []
    assert shop.bill(corrected.id).paid_at is None
    assert [item.paid_at for item in shop.bill(corrected.id).instalments] == [None]
    assert _staff_row(shop, payment.order_id).flag == CORRECTED_FLAG
    with httpx.Client(base_url=shop.base_url, follow_redirects=False, timeout=10) as client:
        assert sign_in(client, shop.result.operator_username, shop.result.operator_password).status_code == 303
        detail = client.get(f"/office/bills/{bill.id}")
        corrected_detail = client.get(f"/office/bills/{corrected.id}")
        listing = client.get("/office/payments", params={"status": "completed", "sort": "date"})
    assert detail.status_code == 200
    assert CORRECTED_LABEL_IT in detail.text
    assert f"Riemessa come</dt><dd><a href=\"/office/bills/{corrected.id}\">" in detail.text
    assert f"Riemissione di</dt><dd><a href=\"/office/bills/{bill.id}\">" in corrected_detail.text
    assert CORRECTED_LABEL_IT not in corrected_detail.text
    assert CORRECTED_LABEL_IT in listing.text


@pytest.mark.usefixtures("nexi_classic")
def test_correction_same_amount_not_flagged(shop: Shop, fake_nexi: FakeNexi) -> None:
    bill = _bill_for_period(shop, Decimal("80.00"))
    order = _start_attempt(shop, bill, fake_nexi)
    _reissue(shop, bill, Decimal("80.0"))

    assert _notify(fake_nexi, order).text == "applied"
    (payment,) = shop.payments(bill.id)
    assert payment.flag is None


@pytest.mark.parametrize("change", [
    {"period_from": date(2026, 11, 1), "period_to": date(2026, 12, 31)},
    {"pod": "IT001E99999999"},
    {"service": "gas"},
    {"document_type": "TD04"},
])
@pytest.mark.usefixtures("nexi_classic")
def test_other_bill_is_no_correction(shop: Shop, fake_nexi: FakeNexi, change: dict[str, object]) -> None:
    bill = _bill_for_period(shop, Decimal("80.00"))
    order = _start_attempt(shop, bill, fake_nexi)
    _reissue(shop, bill, Decimal("95.00"), **change)

    assert _notify(fake_nexi, order).text == "applied"
    (payment,) = shop.payments(bill.id)
    assert payment.flag is None


@pytest.mark.usefixtures("nexi_classic")
def test_correction_after_payment_flagged(shop: Shop, fake_nexi: FakeNexi) -> None:
    bill = _bill_for_period(shop, Decimal("80.00"))
    bystander = _bill_for_period(shop, Decimal("80.00"))
    order = _start_attempt(shop, bill, fake_nexi)
    bystander_order = _start_attempt(shop, bystander, fake_nexi)
    assert _notify(fake_nexi, order).text == "applied"
    assert _notify(fake_nexi, bystander_order).text == "applied"

    _reissue(shop, bill, Decimal("95.00"))

    assert shop.payment(order.merchant_order_id).flag == CORRECTED_FLAG
    assert shop.payment(bystander_order.merchant_order_id).flag is None


@pytest.mark.usefixtures("nexi_classic")
def test_other_tenant_credentials_rejected(shop: Shop, fake_nexi: FakeNexi) -> None:
    other = f"beta{random_base62(4).lower()}"
    create_tenant(shop.rt.db, other, "Other Utility S.p.A.", tenant_config(get_tenant(shop.rt.db, DEMO_SLUG)))
    save_gateway_settings(shop.rt, other, "nexi", {
        "mode": "classic", "alias": OTHER_ALIAS, "mac_key": OTHER_MAC_KEY, "api_base_url": fake_nexi.base_url,
        "ca_bundle": str(shop.ca.ca_path), "test_mode": True, "timeout_seconds": 5.0,
    })
    bill = _bill_for_period(shop, Decimal("80.00"))
    order = _start_attempt(shop, bill, fake_nexi)
    before = shop.rejected_count("nexi")
    params = fake_nexi.classic_params(order, "OK")
    params["alias"] = OTHER_ALIAS
    params["mac"] = mac(*((name, params[name]) for name in
                          ("codTrans", "esito", "importo", "divisa", "data", "orario", "codAut")), key=OTHER_MAC_KEY)
    body = "&".join(f"{key}={value}" for key, value in params.items()).encode()
    other_hook = order.notify_url.replace(f"/nexi/{DEMO_SLUG}", f"/nexi/{other}")

    to_this_tenant = fake_nexi.send(SentNotification("POST", order.notify_url, FORM, body))
    to_other_tenant = fake_nexi.send(SentNotification("POST", other_hook, FORM, body))

    assert to_this_tenant.status_code == 400
    assert shop.rejected_count("nexi") == before + 1
    assert to_other_tenant.status_code == 200
    assert to_other_tenant.text == "ignored"
    with shop.rt.db.tenant_session(other) as session:
        assert session.scalars(select(Payment)).all() == []
    assert shop.payment(order.merchant_order_id).status == "pending"
    assert shop.bill(bill.id).paid_at is None
