"""``ticket.delivery_changed`` reaches the tenant's webhook endpoint for each report that moves a message."""

from __future__ import annotations

import json

from bolletta.platform.stack import EmbeddedStack
from bolletta.platform.webhooks.endpoints import add_endpoint
from tests.fakes.twilio import FakeTwilio
from tests.integration.dispatch.support import Customer, make_job, message_rows, phone, start
from tests.integration.dispatch.test_callbacks import twilio_tenant
from tests.integration.stack_support import wait_idle
from tests.integration.webhooks.receiver import running_receiver


def test_reports_sent_to_endpoint_in_order(stack: EmbeddedStack, twilio: FakeTwilio) -> None:
    tenant = twilio_tenant(stack, twilio)
    job_id = make_job(stack.rt, tenant, [Customer(contacts=[("sms", phone(0))])])
    start(stack.rt, tenant, job_id)
    wait_idle(stack)
    [(_ticket, message)] = message_rows(stack.rt, tenant, job_id)
    sid = message.provider_message_id or ""

    with running_receiver() as receiver:
        add_endpoint(stack.rt, tenant, receiver.url, ["ticket.delivery_changed"], added_by="user:admin",
                     allow_http=True)
        twilio.push_reports([(sid, "delivered")])
        twilio.push_reports([(sid, "delivered"), (sid, "sent")])  # a duplicate and a late report move nothing
        wait_idle(stack)

    events = [json.loads(item.body) for item in receiver.received]
    assert [(event["data"]["from_status"], event["data"]["to_status"]) for event in events] == [("sent", "delivered")]
    assert events[0]["object"] == f"ticket:{message.ticket_id}"
    assert events[0]["data"]["message_id"] == message.id
    assert "+39" not in receiver.received[0].body.decode()
