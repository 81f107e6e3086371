"""The tenant admin's message text editor: trial render on save, SMS counts, versions restored."""

from __future__ import annotations

from bolletta.platform.stack import EmbeddedStack
from bolletta.tenants.registry import get_tenant, tenant_config
from tests.integration.stack_support import create_staff, csrf_token, signed_in_client

GOOD_SMS = "{{ utility }}: la bolletta {{ document_number }} scade il {{ due_date }}. {{ link }}"


def _texts(stack: EmbeddedStack, slug: str) -> dict[str, str]:
    texts = tenant_config(get_tenant(stack.rt.db, slug)).message_texts.get("it")
    return {} if texts is None else {"sms": texts.sms, "email_subject": texts.email_subject}


def test_texts_saved_counted_and_restored(stack: EmbeddedStack, tenant: str) -> None:
    admin = create_staff(stack, f"{tenant}.testi", "tenant_admin", tenant)
    with signed_in_client(stack, admin) as client:
        token = csrf_token(client.get("/office/settings/messages").text)
        first = client.post("/office/settings/messages", data={"texts.it.sms": GOOD_SMS, "_csrf_token": token})
        shown = client.get("/office/settings/messages")
        second = client.post("/office/settings/messages",
                             data={"texts.it.sms": "Nuovo testo {{ link }} ✓", "_csrf_token": token})
        counted = client.get("/office/settings/messages")
        version = counted.text.split('data-version="', 1)[1].split('"', 1)[0]
        restored = client.post(f"/office/settings/messages/versions/{version}", data={"_csrf_token": token})

    assert first.headers["location"] == "/office/settings/messages?saved=1"
    assert "Codifica: GSM-7" in shown.text
    assert second.status_code == 303
    assert "Codifica: UCS-2" in counted.text
    assert restored.headers["location"] == "/office/settings/messages?saved=1"
    assert _texts(stack, tenant)["sms"] == GOOD_SMS


def test_personal_field_in_sms_rejected(stack: EmbeddedStack, tenant: str) -> None:
    admin = create_staff(stack, f"{tenant}.testi2", "tenant_admin", tenant)
    before = _texts(stack, tenant)
    with signed_in_client(stack, admin) as client:
        token = csrf_token(client.get("/office/settings/messages").text)
        rejected = client.post("/office/settings/messages",
                               data={"texts.it.sms": "Gentile {{ customer_name }} {{ link }}", "_csrf_token": token})
        broken = client.post("/office/settings/messages",
                             data={"texts.it.email_subject": "Bolletta {{ document_number", "_csrf_token": token})

    assert rejected.status_code == 400
    assert 'id="e-texts.it.sms"' in rejected.text
    assert "customer_name" in rejected.text
    assert "Gentile {{ customer_name }}" in rejected.text  # what was typed is shown again
    assert broken.status_code == 400
    assert 'id="e-texts.it.email_subject"' in broken.text
    assert _texts(stack, tenant) == before


def test_recursive_sms_explained_not_crashed(stack: EmbeddedStack, tenant: str) -> None:
    admin = create_staff(stack, f"{tenant}.testi3", "tenant_admin", tenant)
    before = _texts(stack, tenant)
    with signed_in_client(stack, admin) as client:
        token = csrf_token(client.get("/office/settings/messages").text)
        recursive = client.post("/office/settings/messages", data={
            "texts.it.sms": "{% macro m(n) %}{{ m(n+1) }}{% endmacro %}{{ m(0) }} {{ link }}", "_csrf_token": token})
        undefined = client.post("/office/settings/messages",
                                data={"texts.it.sms": "Gentile {{ customer_name }} {{ link }}", "_csrf_token": token})

    assert recursive.status_code == 400
    assert 'id="e-texts.it.sms"' in recursive.text
    assert "richiama una macro dentro sé stessa senza fine" in recursive.text
    assert undefined.status_code == 400
    assert "customer_name non è un campo utilizzabile in questo modello" in undefined.text
    assert "is undefined" not in undefined.text
    assert _texts(stack, tenant) == before


def test_email_html_with_script_rejected_naming_it(stack: EmbeddedStack, tenant: str) -> None:
    admin = create_staff(stack, f"{tenant}.testi4", "tenant_admin", tenant)
    before = _texts(stack, tenant)
    hostile = '<p><a href="{{ link }}">Apri</a></p><script>fetch("https://evil.example/")</script>'
    with signed_in_client(stack, admin) as client:
        token = csrf_token(client.get("/office/settings/messages").text)
        rejected = client.post("/office/settings/messages", data={
            "texts.it.email_subject": "La tua bolletta", "texts.it.email_text": "Apri {{ link }}",
            "texts.it.email_html": hostile, "_csrf_token": token})

    assert rejected.status_code == 400
    assert 'id="e-texts.it.email_html"' in rejected.text
    assert ("L&#39;HTML dell&#39;e-mail contiene &lt;script&gt;, che le e-mail non possono contenere, quindi "
            "verrebbe tolto prima dell&#39;invio") in rejected.text
    assert "<script>fetch" not in rejected.text  # what was typed comes back escaped
    assert _texts(stack, tenant) == before
