"""A dispatch writes each customer's messages in their language when the tenant has texts for it."""

from __future__ import annotations

from sqlalchemy import select

from bolletta.platform.db.models.tenant import StoredMessage
from bolletta.platform.stack import EmbeddedStack
from bolletta.platform.tickets import actions
from bolletta.tenants.config import MessageTexts, PortalSettings
from tests.integration.dispatch.support import ADMIN, Customer, make_job, message_rows, phone, start
from tests.integration.stack_support import create_test_tenant, mails_to, new_slug, wait_idle

TEXTS = {
    "en": MessageTexts(
        sms="EN {{ utility }}: your bill {{ document_number }} is due on {{ due_date }}: {{ link }}",
        email_subject="EN your bill {{ document_number }}",
        email_text="Dear {{ customer_name }}, your bill is due on {{ due_date }}: {{ link }}",
        email_html="<p>Dear {{ customer_name }}</p>",
    ),
    "de": MessageTexts(
        sms="DE {{ utility }}: Ihre Rechnung {{ document_number }}, fällig am {{ due_date }}: {{ link }}",
        email_subject="DE Ihre Rechnung {{ document_number }}",
        email_text="Guten Tag {{ customer_name }}, fällig am {{ due_date }}: {{ link }}",
    ),
    "es": MessageTexts(sms="ES {{ link }}"),  # written, but Spanish is not offered on the pages
}

LANGUAGES = [("it", None), ("en", None), ("de", None), ("fr", None), (None, "en"), ("es", None)]
"""Each customer's (bill language from the flow, language stored with the contacts)."""


def sms_texts(stack: EmbeddedStack, tenant: str, number: str) -> list[str]:
    with stack.rt.db.tenant_session(tenant) as session:
        return list(session.scalars(
            select(StoredMessage.text).where(StoredMessage.to_address == number).order_by(StoredMessage.id)))


def test_dispatch_speaks_customer_language(stack: EmbeddedStack) -> None:
    tenant = create_test_tenant(stack, new_slug("ml"), notification_emails=[], message_texts=TEXTS,
                                portal=PortalSettings(languages=["it", "en", "de", "fr"]))
    customers = [
        Customer(contacts=[("email", f"c{i}@{tenant}.example"), ("sms", phone(900 + i))], language=bill_language,
                 contact_language=contact_language)
        for i, (bill_language, contact_language) in enumerate(LANGUAGES)
    ]
    job_id = make_job(stack.rt, tenant, customers)

    start(stack.rt, tenant, job_id)
    wait_idle(stack)

    expected = ["it", "en", "de", "it", "en", "it"]
    for index, language in enumerate(expected):
        [sms] = sms_texts(stack, tenant, phone(900 + index))
        [mail] = mails_to(stack, f"c{index}@{tenant}.example")
        subject = str(mail.message["Subject"])
        html = mail.message.get_body(("html",))
        if language == "it":
            assert sms.startswith(f"Utility {tenant.upper()} S.p.A.: bolletta luce n. D{job_id}-{index}"), (index, sms)
            assert "la tua bolletta" in subject, (index, subject)
        elif language == "en":
            assert sms.startswith(f"EN Utility {tenant.upper()} S.p.A.: your bill D{job_id}-{index} is due on "
                                  "31/12/2026"), (index, sms)
            assert subject == f"EN your bill D{job_id}-{index}"
            assert html is not None
        else:
            assert sms.startswith(f"DE Utility {tenant.upper()} S.p.A.: Ihre Rechnung D{job_id}-{index}, fällig am "
                                  "31.12.2026"), (index, sms)
            assert subject == f"DE Ihre Rechnung D{job_id}-{index}"
            assert html is None, "German has no HTML text, so the e-mail is plain text only"


def test_resend_speaks_customer_language(stack: EmbeddedStack) -> None:
    tenant = create_test_tenant(stack, new_slug("ml"), notification_emails=[], message_texts=TEXTS,
                                portal=PortalSettings(languages=["it", "de"]))
    job_id = make_job(stack.rt, tenant, [Customer(contacts=[("sms", phone(990))], language=None,
                                                  contact_language="de")])
    start(stack.rt, tenant, job_id)
    wait_idle(stack)
    [(ticket, _message)] = message_rows(stack.rt, tenant, job_id)

    actions.resend(stack.rt, tenant, ticket.id, ADMIN)
    wait_idle(stack)

    texts = sms_texts(stack, tenant, phone(990))
    assert len(texts) == 2
    assert all(text.startswith("DE ") for text in texts), texts
