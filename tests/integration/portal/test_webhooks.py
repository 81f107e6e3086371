"""The sandbox gateway's webhook: forged, replayed and mismatched notifications change nothing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

from bolletta.gateways.sandbox import SIGNATURE_HEADER
from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Bill, Payment
from bolletta.platform.tokens import random_base62
from tests.integration.portal.helpers import OTHER_SLUG, Portal, unpaid

CONCURRENT_COPIES = 5


def _pending_payment(portal: Portal) -> tuple[Bill, Payment]:
    token, bill = portal.claim_bill_to_pay()
    with portal.client() as client:
        summary = portal.open_bill(client, token)
        order_id = portal.start_payment(client, bill, summary.text)
    payment = portal.payment(order_id)
    assert payment.status == "pending"
    assert payment.amount == unpaid(bill)[0].amount
    return bill, payment


def _assert_unchanged(portal: Portal, bill: Bill, payment: Payment) -> None:
    stored = portal.payment(payment.order_id)
    assert stored.status == "pending"
    assert stored.updated_at == payment.updated_at
    assert stored.completed_at is None
    assert portal.bill(bill.id).paid_at is None
    assert portal.payment_event_kinds(payment.order_id) == ["payment_started"]


def test_forged_notifications_are_rejected(portal: Portal) -> None:
    bill, payment = _pending_payment(portal)
    headers, body = portal.notification(payment.order_id, "completed", payment.amount)
    timestamp, digest = headers[SIGNATURE_HEADER].split(",")
    flipped = digest[:-1] + ("0" if digest[-1] != "0" else "1")
    other_headers, other_body = portal.notification(payment.order_id, "completed", payment.amount,
                                                    tenant=OTHER_SLUG)
    stale_headers, stale_body = portal.notification(payment.order_id, "completed", payment.amount,
                                                    at=clock.now() - timedelta(minutes=10))
    unsigned = {name: value for name, value in headers.items() if name != SIGNATURE_HEADER}

    attempts = {
        "bad signature": ({**headers, SIGNATURE_HEADER: f"{timestamp},{flipped}"}, body),
        "body changed": (headers, body.replace(b'"completed"', b'"cancelled"')),
        "no signature": (unsigned, body),
        "other tenant's key": (other_headers, other_body),
        "stale timestamp": (stale_headers, stale_body),
    }
    for case, (case_headers, case_body) in attempts.items():
        response = portal.post_notification(case_headers, case_body)
        assert response.status_code == 400, case
        _assert_unchanged(portal, bill, payment)

    # The other tenant's own webhook accepts its signature but finds no such order.
    elsewhere = portal.post_notification(other_headers, other_body, tenant=OTHER_SLUG)
    assert elsewhere.status_code == 200
    assert elsewhere.text == "ignored"
    _assert_unchanged(portal, bill, payment)

    # The gateway's own cancellation still applies, so the bill is free for a new attempt.
    cancel_headers, cancel_body = portal.notification(payment.order_id, "cancelled", payment.amount)
    cancelled = portal.post_notification(cancel_headers, cancel_body)
    assert cancelled.status_code == 200
    assert portal.payment(payment.order_id).status == "cancelled"
    assert portal.bill(bill.id).paid_at is None


def test_replayed_notification_changes_nothing(portal: Portal) -> None:
    bill, payment = _pending_payment(portal)
    headers, body = portal.notification(payment.order_id, "completed", payment.amount)

    first = portal.post_notification(headers, body)
    assert first.status_code == 200
    assert first.text == "applied"
    completed = portal.payment(payment.order_id)
    paid_at = portal.bill(bill.id).paid_at
    assert completed.status == "completed"
    assert paid_at is not None

    replay = portal.post_notification(headers, body)
    fresh_headers, fresh_body = portal.notification(payment.order_id, "completed", payment.amount)
    second_event = portal.post_notification(fresh_headers, fresh_body)
    failed_headers, failed_body = portal.notification(payment.order_id, "failed", payment.amount)
    late_failure = portal.post_notification(failed_headers, failed_body)

    assert replay.status_code == 200
    assert replay.text == "duplicate"
    for response in (second_event, late_failure):
        assert response.status_code == 200
        assert response.text == "ignored"
    stored = portal.payment(payment.order_id)
    assert stored.status == "completed"
    assert stored.updated_at == completed.updated_at
    assert stored.completed_at == completed.completed_at
    assert portal.bill(bill.id).paid_at == paid_at
    assert portal.payment_event_kinds(payment.order_id) == ["payment_started", "payment_completed"]
    assert [item.status for item in portal.payments(bill.id)].count("completed") == 1


def test_concurrent_notifications_apply_once(portal: Portal) -> None:
    bill, payment = _pending_payment(portal)
    notifications = [
        portal.notification(payment.order_id, "completed", payment.amount) for _ in range(CONCURRENT_COPIES)
    ]

    with ThreadPoolExecutor(max_workers=CONCURRENT_COPIES) as pool:
        responses = list(pool.map(lambda item: portal.post_notification(*item), notifications))

    assert [response.status_code for response in responses] == [200] * CONCURRENT_COPIES
    assert sorted(response.text for response in responses) == ["applied"] + ["ignored"] * (CONCURRENT_COPIES - 1)
    assert portal.payment(payment.order_id).status == "completed"
    assert portal.bill(bill.id).paid_at is not None
    assert portal.payment_event_kinds(payment.order_id) == ["payment_started", "payment_completed"]


def test_wrong_amount_is_409(portal: Portal) -> None:
    bill, payment = _pending_payment(portal)
    cases = {
        "one cent more": (payment.amount + Decimal("0.01"), "EUR"),
        "one cent less": (payment.amount - Decimal("0.01"), "EUR"),
        "whole bill": (payment.amount * 2, "EUR"),
        "other currency": (payment.amount, "USD"),
    }

    for case, (amount, currency) in cases.items():
        headers, body = portal.notification(payment.order_id, "completed", amount, currency=currency)
        response = portal.post_notification(headers, body)
        assert response.status_code == 409, case
        _assert_unchanged(portal, bill, payment)

    headers, body = portal.notification(payment.order_id, "completed", payment.amount)
    matching = portal.post_notification(headers, body)
    assert matching.status_code == 200
    assert portal.payment(payment.order_id).status == "completed"


def test_unknown_order_is_ignored(portal: Portal) -> None:
    before = portal.payment_count()
    headers, body = portal.notification("B" + random_base62(20), "completed", Decimal("133.47"))

    response = portal.post_notification(headers, body)

    assert response.status_code == 200
    assert response.text == "ignored"
    assert portal.payment_count() == before
