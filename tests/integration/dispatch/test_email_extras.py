"""E-mail extras: DKIM signing, one-click unsubscribe into the suppression list, DSN bounces."""

from __future__ import annotations

import base64
import mailbox
import smtplib
from email.message import EmailMessage
from pathlib import Path

import dkim
import httpx
import pytest
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bolletta.channels.base import ChannelContext, OutgoingMessage
from bolletta.channels.smtp import SmtpChannel, SmtpSettings
from bolletta.platform.dispatch import bounces, suppression
from bolletta.platform.mail.catcher import MailCatcher
from bolletta.platform.stack import EmbeddedStack
from tests.fakes.channel_server import free_port_for_tests
from tests.integration.dispatch.support import Customer, make_job, message_rows, start
from tests.integration.stack_support import create_test_tenant, mails_to, new_slug, wait_idle


@pytest.fixture(scope="module")
def dkim_key() -> tuple[str, bytes]:
    """A test RSA key as PEM, and the DNS TXT record that publishes it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def resolver_for(record: bytes, name: bytes = b"bolletta._domainkey.acme.example.") -> object:
    def resolve(query: bytes, timeout: int = 5) -> bytes | None:
        return record if query == name else None
    return resolve


def test_dkim_signature_covers_unsubscribe_headers(tmp_path: Path, dkim_key: tuple[str, bytes]) -> None:
    pem, record = dkim_key
    settings = SmtpSettings(from_address="bollette@acme.example", dkim_domain="acme.example",
                            dkim_selector="bolletta", dkim_private_key=pem, timeout_seconds=5)
    message = OutgoingMessage(
        kind="email", to="cliente@example.org", subject="La tua bolletta", text="Testo", html="<p>Testo</p>",
        idempotency_key="ticket-1-1", headers={"List-Unsubscribe": "<https://b.example/hooks/unsubscribe/acme/x>",
                                               "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
    with MailCatcher(store_dir=tmp_path / "mail") as catcher:
        settings = SmtpSettings(**{**{f: getattr(settings, f) for f in settings.__struct_fields__},
                                   "port": catcher.port})
        assert SmtpChannel(settings, ChannelContext(tenant_slug="acme")).send(message).status == "sent"
        raw = catcher.wait_for(1)[0].raw

    signature = raw.split(b"\r\n\r\n", 1)[0].decode()
    assert "DKIM-Signature:" in signature
    signed = signature.split("h=", 1)[1].split(";", 1)[0].replace("\r\n", "").replace(" ", "").replace("\t", "")
    assert "list-unsubscribe" in signed and "list-unsubscribe-post" in signed
    assert dkim.verify(raw, dnsfunc=resolver_for(record))
    tampered = raw.replace(b"La tua bolletta", b"La sua bolletta", 1)
    assert not dkim.verify(tampered, dnsfunc=resolver_for(record))


def email_tenant(stack: EmbeddedStack) -> str:
    return create_test_tenant(stack, new_slug("em"), notification_emails=[],
                              channel_plugins={"email": "smtp", "sms": "outbox", "whatsapp": "outbox"})


def test_one_click_unsubscribe_suppresses_the_address(stack: EmbeddedStack) -> None:
    tenant = email_tenant(stack)
    address = f"uno@{tenant}.example"
    job_id = make_job(stack.rt, tenant, [Customer(contacts=[("email", address)])])
    start(stack.rt, tenant, job_id)
    wait_idle(stack)
    [mail] = mails_to(stack, address)
    header = str(mail.message["List-Unsubscribe"])
    url = header.strip("<>")
    assert url.startswith(f"{stack.base_url}/hooks/unsubscribe/{tenant}/")
    assert address not in url
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    raw_headers = mail.raw.split(b"\r\n\r\n", 1)[0].decode("ascii").split("\r\n")
    assert f"List-Unsubscribe: <{url}>" in raw_headers, "the header must be one plain line, not RFC 2047-encoded"
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in raw_headers

    page = httpx.get(url, headers={"Accept-Language": "it"})  # a browser, or a mail scanner: changes nothing
    assert page.status_code == 200
    assert "Conferma l&#39;annullamento" in page.text or "Conferma l'annullamento" in page.text
    assert f'action="{url.removeprefix(stack.base_url)}"' in page.text
    assert 'name="List-Unsubscribe" value="One-Click"' in page.text
    english = httpx.get(url, headers={"Accept-Language": "en"})
    assert "Confirm unsubscribe" in english.text
    with stack.rt.db.tenant_session(tenant) as session:
        assert not suppression.is_suppressed(session, "email", address)
    assert httpx.get(url[:-6] + "AAAAAA").status_code == 404
    forged = url[:-6] + "AAAAAA"
    assert httpx.post(forged, data={"List-Unsubscribe": "One-Click"}).status_code == 404
    one_click = httpx.post(url, data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    assert one_click.text == "unsubscribed"
    with stack.rt.db.tenant_session(tenant) as session:
        assert suppression.is_suppressed(session, "email", address)
    confirmed = httpx.post(url, data={"List-Unsubscribe": "One-Click"},
                           headers={"Accept": "text/html", "Accept-Language": "it"})  # the page's button
    assert confirmed.status_code == 200
    assert "Iscrizione annullata" in confirmed.text

    again = make_job(stack.rt, tenant, [Customer(contacts=[("email", address)])])
    start(stack.rt, tenant, again)
    wait_idle(stack)
    assert message_rows(stack.rt, tenant, again) == []
    assert len(mails_to(stack, address)) == 1


def dsn_for(original: bytes, recipient: str, action: str = "failed", status: str = "5.1.1") -> bytes:
    report = EmailMessage()
    report["From"] = "MAILER-DAEMON@mx.example.org"
    report["To"] = "bounce@platform.example"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report.set_content("Your message could not be delivered.")
    report.make_mixed()
    raw = report.as_bytes().decode()
    boundary = report.get_boundary()
    headers = original.decode().replace("\r\n", "\n").split("\n\n", 1)[0]
    status_part = (f"--{boundary}\nContent-Type: message/delivery-status\n\n"
                   "Reporting-MTA: dns; mx.example.org\n\n"
                   f"Final-Recipient: rfc822; {recipient}\nAction: {action}\nStatus: {status}\n"
                   "Diagnostic-Code: smtp; 550 5.1.1 user unknown\n\n"
                   f"--{boundary}\nContent-Type: text/rfc822-headers\n\n{headers}\n")
    raw = raw.replace("multipart/mixed", 'multipart/report; report-type="delivery-status"', 1)
    raw = raw.replace(f"--{boundary}--", status_part + f"--{boundary}--")
    return raw.encode()


def test_dsn_in_a_maildir_fails_the_message_and_suppresses(stack: EmbeddedStack, tmp_path: Path) -> None:
    tenant = email_tenant(stack)
    address = f"assente@{tenant}.example"
    job_id = make_job(stack.rt, tenant, [Customer(contacts=[("email", address)])])
    start(stack.rt, tenant, job_id)
    wait_idle(stack)
    [mail] = mails_to(stack, address)
    box = mailbox.Maildir(tmp_path / "bounces", create=True)
    box.add(dsn_for(mail.raw, address))
    box.add(dsn_for(mail.raw, address, action="delayed", status="4.4.1"))

    assert bounces.read_maildir(stack.rt, tenant, tmp_path / "bounces") == 2
    [(_, message)] = message_rows(stack.rt, tenant, job_id)
    assert message.status == "failed"
    assert "5.1.1" in (message.error or "")
    with stack.rt.db.tenant_session(tenant) as session:
        assert suppression.is_suppressed(session, "email", address)
    assert len(box) == 0


def test_dsn_at_the_inbound_smtp_endpoint(stack: EmbeddedStack) -> None:
    tenant = email_tenant(stack)
    address = f"pieno@{tenant}.example"
    job_id = make_job(stack.rt, tenant, [Customer(contacts=[("email", address)])])
    start(stack.rt, tenant, job_id)
    wait_idle(stack)
    [mail] = mails_to(stack, address)

    controller = Controller(bounces.BounceHandler(stack.rt), hostname="127.0.0.1", port=free_port_for_tests())
    controller.start()
    try:
        with smtplib.SMTP("127.0.0.1", controller.port, timeout=10) as client:
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                client.sendmail("", ["postmaster@platform.example"], b"Subject: x\r\n\r\nx")
            bounce = dsn_for(mail.raw, address).replace(b"\n", b"\r\n")
            client.sendmail("", [f"bounce+{tenant}@platform.example"], bounce)
    finally:
        controller.stop()

    [(_, message)] = message_rows(stack.rt, tenant, job_id)
    assert message.status == "failed"


def test_bill_by_email_attaches_the_pdf_only_for_customers_who_chose_it(stack: EmbeddedStack) -> None:
    tenant = create_test_tenant(stack, new_slug("be"), notification_emails=[], bills_by_email="attach",
                                channel_mode="priority", channel_priority=["sms", "email"],
                                channel_plugins={"email": "smtp", "sms": "outbox", "whatsapp": "outbox"})
    pdf = b"%PDF-1.4 test bill\n%%EOF\n"
    job_id = make_job(stack.rt, tenant, [
        Customer(contacts=[("sms", "+393330000011"), ("email", f"carta@{tenant}.example")], bill_by_email=True,
                 pdf=pdf),
        Customer(contacts=[("sms", "+393330000012"), ("email", f"sms@{tenant}.example")], pdf=pdf),
    ])
    start(stack.rt, tenant, job_id)
    wait_idle(stack)

    origins = {ticket.address: ticket.origin for ticket, _ in message_rows(stack.rt, tenant, job_id)}
    assert origins == {"+393330000011": "dispatch", f"carta@{tenant}.example": "bill_email",
                       "+393330000012": "dispatch"}
    [mail] = mails_to(stack, f"carta@{tenant}.example")
    [attachment] = list(mail.message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == pdf
    assert attachment.get_filename() == f"bolletta_D{job_id}-0.pdf"
    assert mails_to(stack, f"sms@{tenant}.example") == []
