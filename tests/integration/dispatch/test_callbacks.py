"""Twilio and WhatsApp against their fakes: signed, idempotent status callbacks that never go back."""

from __future__ import annotations

import httpx

from bolletta.platform.stack import EmbeddedStack
from tests.fakes.twilio import FakeTwilio
from tests.fakes.whatsapp import FakeWhatsapp
from tests.integration.dispatch.support import Customer, make_job, message_rows, phone, start, status_counts
from tests.integration.stack_support import create_test_tenant, new_slug, wait_idle


def twilio_tenant(stack: EmbeddedStack, fake: FakeTwilio) -> str:
    return create_test_tenant(
        stack, new_slug("tw"), notification_emails=[],
        channel_plugins={"sms": "twilio", "email": "outbox", "whatsapp": "outbox"},
        enabled_channels=["twilio", "outbox"], channel_settings={"twilio": fake.settings()},
    )


def whatsapp_tenant(stack: EmbeddedStack, fake: FakeWhatsapp) -> str:
    return create_test_tenant(
        stack, new_slug("wa"), notification_emails=[],
        channel_plugins={"sms": "outbox", "email": "outbox", "whatsapp": "whatsapp"},
        enabled_channels=["whatsapp", "outbox"], channel_settings={"whatsapp": fake.settings()},
    )


def test_twilio_callbacks_are_verified_idempotent_and_monotonic(stack: EmbeddedStack, twilio: FakeTwilio) -> None:
    tenant = twilio_tenant(stack, twilio)
    job_id = make_job(stack.rt, tenant, [Customer(contacts=[("sms", phone(i))]) for i in range(3)])
    start(stack.rt, tenant, job_id)
    wait_idle(stack)
    rows = message_rows(stack.rt, tenant, job_id)
    assert [message.status for _, message in rows] == ["sent"] * 3
    sids = [message.provider_message_id or "" for _, message in rows]
    assert all(sid.startswith("SM") for sid in sids)
    assert all(f"/hooks/channels/twilio/{tenant}?key=" in twilio.messages[sid].callback for sid in sids)

    forged = twilio.push_reports([(sids[0], "failed")], token="not-the-auth-token")
    assert forged == [403]
    assert status_counts(stack.rt, tenant, job_id) == {"sent": 3}

    answers = twilio.push_reports(
        [(sids[0], "sent"), (sids[0], "delivered"), (sids[1], "undelivered"), (sids[2], "sent")],
        shuffle=True, duplicate=True,
    )
    assert set(answers) == {200}
    twilio.push_reports([(sids[0], "sent"), (sids[1], "delivered")])  # late reports change nothing
    final = {message.provider_message_id: message for _, message in message_rows(stack.rt, tenant, job_id)}
    assert final[sids[0]].status == "delivered" and final[sids[0]].delivered_at is not None
    assert final[sids[1]].status == "failed" and "30003" in (final[sids[1]].error or "")
    assert final[sids[2]].status == "sent"


def test_twilio_refuses_an_invalid_number(stack: EmbeddedStack, twilio: FakeTwilio) -> None:
    tenant = twilio_tenant(stack, twilio)
    job_id = make_job(stack.rt, tenant, [Customer(contacts=[("sms", "+39abc")])])
    start(stack.rt, tenant, job_id)
    wait_idle(stack)
    [(_, message)] = message_rows(stack.rt, tenant, job_id)
    assert message.status == "rejected" and "21211" in (message.error or "")


def test_whatsapp_template_webhooks_and_read_receipts(stack: EmbeddedStack, whatsapp: FakeWhatsapp) -> None:
    tenant = whatsapp_tenant(stack, whatsapp)
    job_id = make_job(stack.rt, tenant, [Customer(contacts=[("whatsapp", phone(i))]) for i in range(3)])
    start(stack.rt, tenant, job_id)
    wait_idle(stack)
    rows = message_rows(stack.rt, tenant, job_id)
    assert [message.status for _, message in rows] == ["sent"] * 3
    sent = whatsapp.messages[rows[0][1].provider_message_id or ""]
    template = sent.payload["template"]
    assert sent.to == phone(0).lstrip("+") and template["name"] == "bolletta_pronta"
    body, button = template["components"]
    assert [p["text"] for p in body["parameters"]][1] == f"D{job_id}-0"
    assert button["sub_type"] == "url" and len(button["parameters"][0]["text"]) == 22
    assert sent.opaque == rows[0][1].idempotency_key

    url = f"{stack.base_url}/hooks/channels/whatsapp/{tenant}"
    wamids = [message.provider_message_id or "" for _, message in rows]
    assert whatsapp.push_reports(url, [(wamids[0], "delivered")], secret="wrong") == [403]
    answers = whatsapp.push_reports(
        url, [(wamids[0], "sent"), (wamids[0], "delivered"), (wamids[0], "read"), (wamids[1], "failed"),
              (wamids[2], "delivered")], shuffle=True, duplicate=True)
    assert set(answers) == {200}
    whatsapp.push_reports(url, [(wamids[2], "failed"), (wamids[1], "delivered")])  # out of order, after final

    final = {message.provider_message_id: message for _, message in message_rows(stack.rt, tenant, job_id)}
    assert final[wamids[0]].status == "delivered" and final[wamids[0]].read_at is not None
    assert final[wamids[1]].status == "failed" and "131026" in (final[wamids[1]].error or "")
    assert final[wamids[2]].status == "delivered"


def test_whatsapp_verification_handshake(stack: EmbeddedStack, whatsapp: FakeWhatsapp) -> None:
    tenant = whatsapp_tenant(stack, whatsapp)
    url = f"{stack.base_url}/hooks/channels/whatsapp/{tenant}"
    good = httpx.get(url, params={"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158"})
    bad = httpx.get(url, params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158"})
    assert (good.status_code, good.text) == (200, "1158")
    assert bad.status_code == 403


def test_callbacks_of_a_plugin_not_enabled_are_not_found(stack: EmbeddedStack, whatsapp: FakeWhatsapp) -> None:
    tenant = create_test_tenant(stack, new_slug("wa"), notification_emails=[])
    response = httpx.post(f"{stack.base_url}/hooks/channels/whatsapp/{tenant}", content=b"{}")
    assert response.status_code == 404
