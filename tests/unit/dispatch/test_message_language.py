"""Choosing and rendering a message's language from the customer's language and the tenant's texts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from bolletta.platform.db.models.tenant import Bill
from bolletta.platform.dispatch.rendering import RenderedMessage, message_language, render_message
from bolletta.tenants.config import MessageTexts, PortalSettings, TenantConfig

ENGLISH = MessageTexts(
    sms="{{ utility }}: your {{ service_label }} bill {{ document_number }} is due on {{ due_date }}: {{ link }}",
    email_subject="Your bill {{ document_number }}",
    email_text="Dear {{ customer_name }}, you owe {{ amount }} by {{ due_date }}. {{ link }}",
    email_html="<p>Dear {{ customer_name }}</p><h1>{{ subject }}</h1>",
)
GERMAN = MessageTexts(sms="{{ utility }}: Ihre {{ service_label }}rechnung, fällig am {{ due_date }}: {{ link }}")


def config(**texts: MessageTexts) -> TenantConfig:
    return TenantConfig(portal=PortalSettings(languages=["it", "en", "de", "fr"]), message_texts=texts)


def bill(**changes: object) -> Bill:
    values: dict[str, object] = {
        "document_number": "A-17", "service": "electricity", "due_date": date(2026, 12, 31), "currency": "EUR",
        "amount_due": Decimal("1234.50"), "total": Decimal("1234.50"), "document_type": "TD01",
        "customer_name": "Jane <Doe>", "language": None,
    }
    return Bill(**(values | changes))


def render(kind: str, tenant: TenantConfig, language: str | None, **changes: object) -> RenderedMessage:
    return render_message(kind, bill=bill(**changes), config=tenant, utility="ACME", link="https://b.example/t/x",
                          expires_at=datetime(2027, 1, 15, 12, tzinfo=UTC), is_test=False,
                          customer_language=language)


@pytest.mark.parametrize(
    ("customer", "kind", "expected"),
    [
        ("en", "sms", "en"),
        ("en-GB", "sms", "en"),
        ("DE_at", "sms", "de"),
        ("de", "email", "it"),  # German has no e-mail texts
        ("en", "whatsapp", "it"),  # nor WhatsApp in English
        ("fr", "sms", "it"),  # French is offered but the tenant wrote no French texts
        ("it", "sms", "it"),
        (None, "sms", "it"),
        ("", "sms", "it"),
    ],
)
def test_language_follows_customer_and_texts(customer: str | None, kind: str, expected: str) -> None:
    assert message_language(config(en=ENGLISH, de=GERMAN), customer, kind) == expected


def test_language_not_offered_stays_italian() -> None:
    tenant = TenantConfig(portal=PortalSettings(languages=["it", "en"]), message_texts={"de": GERMAN})

    assert message_language(tenant, "de", "sms") == "it"


def test_customer_language_switched_off_stays_italian() -> None:
    tenant = TenantConfig(portal=PortalSettings(languages=["it", "en"], use_customer_language=False),
                          message_texts={"en": ENGLISH})

    assert message_language(tenant, "en", "sms") == "it"


def test_english_sms_formats_date_and_service() -> None:
    rendered = render("sms", config(en=ENGLISH), "en")

    assert rendered.language == "en"
    assert rendered.text == (
        "ACME: your Electricity bill A-17 is due on 31/12/2026: https://b.example/t/x")


def test_german_sms_formats_date_and_service() -> None:
    rendered = render("sms", config(de=GERMAN), "de")

    assert rendered.text == "ACME: Ihre Stromrechnung, fällig am 31.12.2026: https://b.example/t/x"


def test_english_email_escapes_html_only() -> None:
    rendered = render("email", config(en=ENGLISH), "en")

    assert rendered.subject == "Your bill A-17"
    assert rendered.text == "Dear Jane <Doe>, you owe €1,234.50 by 31/12/2026. https://b.example/t/x"
    assert rendered.html == "<p>Dear Jane &lt;Doe&gt;</p><h1>Your bill A-17</h1>"


def test_email_without_html_sends_text_only() -> None:
    texts = MessageTexts(email_subject="Bill {{ document_number }}", email_text="See {{ link }}")

    rendered = render("email", config(en=texts), "en")

    assert rendered.subject == "Bill A-17"
    assert rendered.html is None


def test_french_customer_gets_product_italian() -> None:
    rendered = render("sms", config(en=ENGLISH, de=GERMAN), "fr")

    assert rendered.language == "it"
    assert rendered.text == (
        "ACME: bolletta luce n. A-17, scadenza 31/12/2026. Consultala qui: https://b.example/t/x")


def test_broken_tenant_text_falls_back_to_italian(caplog: pytest.LogCaptureFixture) -> None:
    broken = MessageTexts(sms="{{ customer_fiscal_code }} {{ link }}")  # not a field SMS texts may use

    rendered = render("sms", config(en=broken), "en")

    assert rendered.language == "it"
    assert rendered.text.startswith("ACME: bolletta luce n. A-17, scadenza 31/12/2026.")
    assert "failed to render" in caplog.text


def test_tenant_text_cannot_reach_python_internals() -> None:
    hostile = MessageTexts(sms="{{ link.__class__.__mro__ }}")

    rendered = render("sms", config(en=hostile), "en")

    assert rendered.language == "it"
    assert "class" not in rendered.text


def test_sms_gets_no_personal_fields() -> None:
    nosy = MessageTexts(sms="{{ customer_name }} {{ amount }}")

    rendered = render("sms", config(en=nosy), "en")

    assert "Jane" not in rendered.text
    assert rendered.language == "it"
