"""What the wizard's settings change in dispatch: the tenant's WhatsApp template per language against
the fake Cloud API, the e-mail header image sent inline through real SMTP on loopback (also after
the settings replace it), and the contact sources."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Bill, Contact
from bolletta.platform.stack import EmbeddedStack
from bolletta.platform.storage import storage_from_settings
from bolletta.tenants.config import MessageTexts, PortalSettings, WhatsappTemplate
from tests.fakes.images import image_bytes
from tests.fakes.whatsapp import FakeWhatsapp
from tests.integration.dispatch.support import Customer, make_job, message_rows, phone, start
from tests.integration.stack_support import (
    create_staff,
    create_test_tenant,
    csrf_token,
    mails_to,
    new_slug,
    signed_in_client,
    wait_idle,
)

PNG = image_bytes("PNG")
JPEG = image_bytes("JPEG")


def test_whatsapp_uses_tenant_template_per_language(stack: EmbeddedStack, whatsapp: FakeWhatsapp) -> None:
    whatsapp.templates |= {"bolletta_it", "bill_ready_en"}
    templates = {
        "it": WhatsappTemplate(name="bolletta_it", language_code="it",
                               body_parameters=["utility", "due_date", "document_number"], url_button=True),
        "en": WhatsappTemplate(name="bill_ready_en", language_code="en_US",
                               body_parameters=["document_number", "link"]),
    }
    tenant = create_test_tenant(
        stack, new_slug("wt"), notification_emails=[],
        channel_plugins={"sms": "outbox", "email": "outbox", "whatsapp": "whatsapp"},
        enabled_channels=["whatsapp", "outbox"], channel_settings={"whatsapp": whatsapp.settings()},
        whatsapp_templates=templates, portal=PortalSettings(languages=["it", "en"]),
        message_texts={"en": MessageTexts(whatsapp="{{ document_number }} {{ link }}")},
    )
    job_id = make_job(stack.rt, tenant, [Customer(contacts=[("whatsapp", phone(1))], language="it"),
                                         Customer(contacts=[("whatsapp", phone(2))], language="en")])

    start(stack.rt, tenant, job_id)
    wait_idle(stack)

    rows = message_rows(stack.rt, tenant, job_id)
    assert [message.status for _, message in rows] == ["sent", "sent"]
    by_id = [whatsapp.messages[message.provider_message_id or ""] for _, message in rows]
    sent = {message.to: message for message in by_id}
    italian = sent[phone(1).lstrip("+")].payload["template"]
    english = sent[phone(2).lstrip("+")].payload["template"]
    assert (italian["name"], italian["language"]["code"]) == ("bolletta_it", "it")
    assert (english["name"], english["language"]["code"]) == ("bill_ready_en", "en_US")
    italian_body, italian_button = italian["components"]
    assert [p["text"] for p in italian_body["parameters"]][2] == f"D{job_id}-0"
    assert italian_button["sub_type"] == "url"
    [english_body] = english["components"]
    english_values = [p["text"] for p in english_body["parameters"]]
    assert english_values[0] == f"D{job_id}-1"
    assert english_values[1].startswith("http")


def test_email_header_image_sent_inline(stack: EmbeddedStack) -> None:
    slug = new_slug("ei")
    tenant = create_test_tenant(stack, slug, email_header_key="assets/email-header", email_header_type="image/png")
    storage_from_settings(stack.rt.settings).put(tenant, "assets/email-header", PNG)
    address = f"cliente@{slug}.example"
    job_id = make_job(stack.rt, tenant, [Customer(contacts=[("email", address)])])

    start(stack.rt, tenant, job_id)
    wait_idle(stack)

    [mail] = mails_to(stack, address)
    parts = list(mail.message.walk())
    images = [part for part in parts if part.get_content_type() == "image/png"]
    [html] = [part for part in parts if part.get_content_type() == "text/html"]
    assert len(images) == 1
    assert images[0].get_payload(decode=True) == PNG
    assert images[0]["Content-ID"] == "<header-image@bolletta>"
    assert 'src="cid:header-image@bolletta"' in html.get_content()
    assert "http" not in html.get_content().split('src="', 1)[1][:8]


def test_contact_sources_left_out_are_ignored(stack: EmbeddedStack) -> None:
    slug = new_slug("cs")
    tenant = create_test_tenant(stack, slug, contact_sources=["directory"])
    flow_address, directory_address = f"flusso@{slug}.example", f"rubrica@{slug}.example"
    job_id = make_job(stack.rt, tenant, [Customer(contacts=[("email", flow_address)])])
    with stack.rt.db.tenant_session(tenant) as session:
        customer_code = session.scalars(select(Bill.customer_code).where(Bill.job_id == job_id)).one()
        session.add(Contact(customer_code=customer_code, channel="email", address=directory_address,
                            source="directory", job_id=None, created_at=clock.now()))
        session.commit()

    start(stack.rt, tenant, job_id)
    wait_idle(stack)

    assert [ticket.address for ticket, _ in message_rows(stack.rt, tenant, job_id)] == [directory_address]
    assert mails_to(stack, flow_address) == []


def test_missing_header_image_logged_once(stack: EmbeddedStack, caplog: pytest.LogCaptureFixture) -> None:
    slug = new_slug("mi")
    tenant = create_test_tenant(stack, slug, email_header_key="assets/email-header-assente",
                                email_header_type="image/png")
    addresses = [f"cliente{index}@{slug}.example" for index in range(3)]
    job_id = make_job(stack.rt, tenant, [Customer(contacts=[("email", address)]) for address in addresses])

    with caplog.at_level(logging.WARNING, logger="bolletta.platform.dispatch.attachments"):
        start(stack.rt, tenant, job_id)
        wait_idle(stack)

    mails = [mail for address in addresses for mail in mails_to(stack, address)]
    assert len(mails) == 3
    assert all(part.get_content_type() != "image/png" for mail in mails for part in mail.message.walk())
    assert len([record for record in caplog.records if "email-header-assente" in record.getMessage()]) == 1


def test_replaced_header_sent_inline(stack: EmbeddedStack) -> None:
    slug = new_slug("ri")
    tenant = create_test_tenant(stack, slug)
    admin = create_staff(stack, f"{slug}.amministratore", "tenant_admin", tenant)
    sent: list[bytes] = []
    with signed_in_client(stack, admin) as client:
        token = csrf_token(client.get("/office/settings/images").text)
        for number, (image, content_type) in enumerate(((PNG, "image/png"), (JPEG, "image/jpeg"))):
            uploaded = client.post("/office/settings/uploads/email-header", data={"_csrf_token": token},
                                   files={"image": ("testata", image, content_type)})
            assert uploaded.status_code == 303
            address = f"cliente{number}@{slug}.example"
            job_id = make_job(stack.rt, tenant, [Customer(contacts=[("email", address)])])
            start(stack.rt, tenant, job_id)
            wait_idle(stack)
            [mail] = mails_to(stack, address)
            [inline] = [part for part in mail.message.walk() if part.get_content_maintype() == "image"]
            assert inline.get_content_type() == content_type
            assert inline["Content-ID"] == "<header-image@bolletta>"
            sent.append(inline.get_payload(decode=True))
        removed = client.post("/office/settings/uploads/email-header", data={"_csrf_token": token, "remove": "1"},
                              files={"image": ("", b"", "application/octet-stream")})
    assert removed.status_code == 303
    address = f"senza@{slug}.example"
    job_id = make_job(stack.rt, tenant, [Customer(contacts=[("email", address)])])
    start(stack.rt, tenant, job_id)
    wait_idle(stack)

    assert sent == [PNG, JPEG]
    [mail] = mails_to(stack, address)
    assert all(part.get_content_maintype() != "image" for part in mail.message.walk())
