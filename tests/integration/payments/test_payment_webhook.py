"""``payment.completed`` reaches the tenant's webhook endpoint, signed, once per payment."""

from __future__ import annotations

import json
import time

import pytest

from bolletta.platform.demo.tenant import DEMO_SLUG
from bolletta.platform.webhooks import signing
from bolletta.platform.webhooks.endpoints import add_endpoint, remove_endpoint
from tests.fakes.nexi import FakeNexi
from tests.integration.payments.shop import Shop
from tests.integration.stack_support import wait_idle
from tests.integration.webhooks.receiver import running_receiver

pytestmark = pytest.mark.usefixtures("nexi_classic")


def test_completed_payment_sent_to_endpoint(shop: Shop, fake_nexi: FakeNexi) -> None:
    with running_receiver() as receiver:
        endpoint = add_endpoint(shop.rt, DEMO_SLUG, receiver.url, ["payment.completed"], added_by="user:admin",
                                allow_http=True)
        try:
            bill, order_id, _after = shop.pay("nexi")
            payment = shop.wait_for(order_id, "completed")
            deadline = time.monotonic() + 20
            while not receiver.received and time.monotonic() < deadline:
                time.sleep(0.05)
            wait_idle(shop.result.stack)
        finally:
            remove_endpoint(shop.rt, DEMO_SLUG, endpoint.id, removed_by="user:admin")

    [delivery] = receiver.received
    body = json.loads(delivery.body)
    assert body["event"] == "payment.completed"
    assert body["object"] == f"payment:{payment.id}"
    assert body["data"]["order_id"] == order_id
    assert body["data"]["amount"] == "84.20"
    assert body["data"]["bill_id"] == bill.id
    assert signing.verify(endpoint.secret, delivery.headers["bolletta-signature"], delivery.body,
                          now=int(time.time()))
