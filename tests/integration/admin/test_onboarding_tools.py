"""The wizard's helpers: live previews, image uploads kept until activation, and test sends."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from bolletta.platform.db.models.platform import TenantDraft
from bolletta.platform.stack import EmbeddedStack
from bolletta.platform.storage import storage_from_settings, tenant_key
from bolletta.tenants import registry
from bolletta.tenants.images import LOGO_PREFIX, email_header_key, image_digest
from bolletta.tenants.onboarding import drafts
from tests.fakes.axerve import FakeAxerve
from tests.fakes.channel_server import free_port_for_tests
from tests.fakes.images import image_bytes
from tests.fakes.paypal import FakePaypal
from tests.fakes.tls import TestCA
from tests.fakes.whatsapp import FakeWhatsapp
from tests.integration.admin.console_support import AdminLogin, admin_client
from tests.integration.admin.test_onboarding_pages import _forms
from tests.integration.stack_support import csrf_token, mails_to, new_slug

PNG = image_bytes("PNG")


@contextmanager
def draft(stack: EmbeddedStack, admin: AdminLogin) -> Iterator[tuple[httpx.Client, str, str]]:
    """A signed-in client, the CSRF token and the path of a new draft."""
    with admin_client(stack, admin) as client:
        token = csrf_token(client.get("/admin/onboarding").text)
        started = client.post("/admin/onboarding", data={"_csrf_token": token})
        yield client, token, started.headers["location"].rsplit("/", 1)[0]


def test_look_preview_follows_typed_values(stack: EmbeddedStack, admin: AdminLogin) -> None:
    form = {**_forms("pv")["look"], "branding.primary_color": "#123456", "section_order": "consumi\nimporti",
            "hidden_sections": "dati"}
    with draft(stack, admin) as (client, token, path):
        fragment = client.post(f"{path}/preview/look", data={**form, "_csrf_token": token})
        css_link = fragment.text.split('rel="stylesheet" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
        css = client.get(css_link)
        saved_page = client.get(f"{path}/look")

    assert fragment.status_code == 200
    assert fragment.text.index("Consumi") < fragment.text.index("Importi") < fragment.text.index("Sommario")
    assert "I tuoi dati" not in fragment.text
    assert "Gas Valle" in fragment.text
    assert "--brand:#123456" in css.text
    assert css.headers["content-type"].startswith("text/css")
    assert "#123456" not in saved_page.text  # the preview saved nothing
    assert 'data-preview="' in saved_page.text
    assert "/static/onboarding-preview.js" in saved_page.text


def test_preview_font_served_as_woff2(stack: EmbeddedStack, admin: AdminLogin) -> None:
    with admin_client(stack, admin) as client:
        font = client.get("/admin/onboarding/fonts/source-sans.woff2")
        unknown = client.get("/admin/onboarding/fonts/comic.woff2")

    assert font.status_code == 200
    assert font.headers["content-type"] == "font/woff2"
    assert font.content.startswith(b"wOF2")
    assert unknown.status_code == 404


def test_preview_button_saves_and_shows_preview(stack: EmbeddedStack, admin: AdminLogin) -> None:
    form = {"texts.it.sms": "{{ utility }}: bolletta {{ document_number }} è pronta {{ link }}",
            "whatsapp_templates.it.name": "bolletta_pronta", "whatsapp_templates.it.language_code": "it",
            "whatsapp_templates.it.body_parameters": "utility\ndue_date", "whatsapp_templates.it.url_button": "1"}
    with draft(stack, admin) as (client, token, path):
        saved = client.post(f"{path}/messages", data={**form, "preview": "1", "_csrf_token": token})
        page = client.get(f"{path}/messages")

    assert saved.headers["location"] == f"{path}/messages"
    assert "ACME Energia: bolletta 2026/A/000123 è pronta http://127.0.0.1:" in page.text
    assert "Codifica: UCS-2" not in page.text.split('id="preview"', 1)[1]
    assert "Codifica: GSM-7" in page.text.split('id="preview"', 1)[1]
    assert "1}} = utility: ACME Energia" in page.text
    assert "AbCdEfGhIjKlMnOpQrStUv" in page.text


def test_bad_template_mapping_shown_next_to_field(stack: EmbeddedStack, admin: AdminLogin) -> None:
    form = {"whatsapp_templates.en.name": "bill_ready", "whatsapp_templates.en.language_code": "en_US",
            "whatsapp_templates.en.body_parameters": "customer_name\nlink"}
    with draft(stack, admin) as (client, token, path):
        refused = client.post(f"{path}/messages", data={**form, "_csrf_token": token})

    assert refused.status_code == 400
    error = refused.text.split('id="e-whatsapp_templates.en.body_parameters"', 1)[1].split("</p>", 1)[0]
    assert "customer_name" in error


@pytest.mark.parametrize(("data", "words"), [
    (b"GIF89a" + b"\x00" * 64, "non è un'immagine PNG o JPEG"),
    (PNG + b"\x00" * 300_000, "il limite è 200,0 KB"),
])
def test_bad_image_refused_next_to_upload(stack: EmbeddedStack, admin: AdminLogin, data: bytes, words: str) -> None:
    with draft(stack, admin) as (client, token, path):
        refused = client.post(f"{path}/image/messages", data={"_csrf_token": token},
                              files={"image": ("header.png", data, "image/png")})
        page = client.get(f"{path}/messages")

    assert refused.status_code == 400
    assert words in html.unescape(refused.text.split('id="e-image"', 1)[1].split("</p>", 1)[0])
    assert "Un'immagine è salvata" not in html.unescape(page.text)


def test_images_kept_and_stored_at_activation(stack: EmbeddedStack, admin: AdminLogin) -> None:
    slug = new_slug("im")
    forms = _forms(slug)
    with draft(stack, admin) as (client, token, path):
        for step in ("look", "messages"):
            uploaded = client.post(f"{path}/image/{step}", data={"_csrf_token": token},
                                   files={"image": ("any-name.bin", PNG, "application/octet-stream")})
            assert uploaded.status_code == 303, uploaded.text
        for step, form in forms.items():
            saved = client.post(f"{path}/{step}", data={**form, "_csrf_token": token})
            assert saved.status_code == 303, (step, saved.text[-2000:])
        look_page = client.get(f"{path}/look")
        activated = client.post(f"{path}/activate", data={"_csrf_token": token})
        logo = client.get(f"/c/{slug}/logo")

    assert "data:image/png;base64," in look_page.text  # saving the step kept the upload
    assert activated.headers["location"] == f"/admin/tenants/{slug}"
    storage = storage_from_settings(stack.rt.settings)
    config = registry.tenant_config(registry.get_tenant(stack.rt.db, slug))
    assert config.email_header_key == email_header_key(PNG)
    assert config.email_header_key.startswith("assets/email-header-")
    assert storage.get(tenant_key(slug, config.email_header_key)) == PNG
    assert storage.get(tenant_key(slug, LOGO_PREFIX + image_digest(PNG))) == PNG
    assert config.email_header_type == "image/png"
    assert config.portal.logo_url == f"/c/{slug}/logo?v={image_digest(PNG)}"
    assert (logo.status_code, logo.headers["content-type"], logo.content) == (200, "image/png", PNG)


def test_test_send_by_email_through_smtp(stack: EmbeddedStack, admin: AdminLogin) -> None:
    slug = new_slug("ts")
    forms = _forms(slug)
    address = f"prova@{slug}.example"
    with draft(stack, admin) as (client, token, path):
        client.post(f"{path}/image/messages", data={"_csrf_token": token}, files={"image": ("h.png", PNG, "image/png")})
        for step in ("company", "look", "senders"):
            client.post(f"{path}/{step}", data={**forms[step], "_csrf_token": token})
        sent = client.post(f"{path}/test-send", data={"kind": "email", "recipient": address, "_csrf_token": token})

    assert sent.status_code == 200, sent.text[-2000:]
    assert "Messaggio di prova inviato a " + address in sent.text
    [mail] = mails_to(stack, address)
    assert "Messaggio di test" in mail.message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert [part["Content-ID"] for part in mail.message.walk() if part.get_content_type() == "image/png"] == [
        "<header-image@bolletta>"]


def test_test_send_reports_problems_in_italian(stack: EmbeddedStack, admin: AdminLogin) -> None:
    forms = _forms(new_slug("tf"))
    with draft(stack, admin) as (client, token, path):
        client.post(f"{path}/senders", data={**forms["senders"], "channel_plugins.whatsapp": "whatsapp",
                                             "_csrf_token": token})
        no_recipient = client.post(f"{path}/test-send", data={"kind": "sms", "recipient": "", "_csrf_token": token})
        bad_number = client.post(f"{path}/test-send", data={"kind": "sms", "recipient": "333", "_csrf_token": token})
        no_settings = client.post(f"{path}/test-send", data={"kind": "whatsapp", "recipient": "+393330000009",
                                                             "_csrf_token": token})

    assert no_recipient.status_code == 400
    assert "Scrivi un destinatario" in no_recipient.text
    assert bad_number.status_code == 400
    assert "333 non è un numero di cellulare" in bad_number.text
    assert no_settings.status_code == 400
    assert "Il canale non può inviare" in no_settings.text


def _plugin_form(prefix: str, plugin_id: str, settings: dict[str, object]) -> dict[str, str]:
    return {f"{prefix}.{plugin_id}.{name}": str(value) for name, value in settings.items()}


def test_whatsapp_credentials_checked_and_test_sent(stack: EmbeddedStack, admin: AdminLogin) -> None:
    forms = _forms(new_slug("wa"))
    template = {"whatsapp_templates.it.name": "bolletta_pronta", "whatsapp_templates.it.language_code": "it",
                "whatsapp_templates.it.body_parameters": "utility\ndocument_number",
                "whatsapp_templates.it.url_button": "1"}
    with FakeWhatsapp() as fake, draft(stack, admin) as (client, token, path):
        senders = {**forms["senders"], "channel_plugins.whatsapp": "whatsapp", "_csrf_token": token}
        wrong = client.post(f"{path}/senders", data={
            **senders, **_plugin_form("channel_settings", "whatsapp", fake.settings(access_token="EAAG-wrong"))})
        right = client.post(f"{path}/senders", data={
            **senders, **_plugin_form("channel_settings", "whatsapp", fake.settings())})
        kept = client.post(f"{path}/senders", data={
            **senders, **_plugin_form("channel_settings", "whatsapp", fake.settings(access_token=""))})
        client.post(f"{path}/messages", data={**template, "_csrf_token": token})
        sent = client.post(f"{path}/test-send", data={"kind": "whatsapp", "recipient": "+39 333 000 0009",
                                                      "_csrf_token": token})
        stored = client.get(f"{path}/senders")

    assert wrong.status_code == 400
    error = html.unescape(wrong.text.split('id="e-channel_settings.whatsapp.access_token"', 1)[1].split("</p>", 1)[0])
    assert "Il fornitore ha rifiutato le credenziali: whatsapp: HTTP 401 code 190" in error
    assert right.status_code == 200
    assert "Il fornitore ha accettato le credenziali." in right.text
    assert kept.status_code == 200
    assert "Il fornitore ha accettato le credenziali." in kept.text
    for page in (wrong, right, kept, stored):
        assert fake.access_token not in page.text
        assert "EAAG-wrong" not in page.text
    assert "Impostato; lascia vuoto per mantenerlo." in html.unescape(stored.text)
    assert sent.status_code == 200, sent.text[-1500:]
    assert "Messaggio di prova inviato a +39 333 000 0009" in sent.text
    [message] = fake.messages.values()
    assert message.to == "393330000009"
    assert message.payload["template"]["name"] == "bolletta_pronta"
    body, button = message.payload["template"]["components"]
    assert body["parameters"][1]["text"] == "2026/A/000123"
    assert button["sub_type"] == "url"


def test_draft_keeps_secrets_encrypted(stack: EmbeddedStack, admin: AdminLogin, tmp_path: Path) -> None:
    ca = TestCA(tmp_path / "ca")
    paypal = FakePaypal(ca, client_id="client-prova", client_secret="segreto-paypal", webhook_id="WH-1",
                        merchant_id="MERCHANT1")
    settings = {"client_id": "client-prova", "client_secret": "segreto-paypal", "webhook_id": "WH-1",
                "api_base_url": paypal.base_url, "ca_bundle": str(ca.ca_path), "timeout_seconds": "5"}
    try:
        with draft(stack, admin) as (client, token, path):
            payments = {"enabled_gateways": "sandbox\npaypal", "_csrf_token": token}
            wrong = client.post(f"{path}/payments", data={
                **payments, **_plugin_form("gateway_settings", "paypal", settings | {"client_secret": "sbagliato"})})
            right = client.post(f"{path}/payments", data={
                **payments, **_plugin_form("gateway_settings", "paypal", settings)})
            draft_id = int(path.rsplit("/", 1)[1])
    finally:
        paypal.stop()

    assert wrong.status_code == 400
    assert "Il fornitore ha rifiutato le credenziali: paypal: HTTP 401" in wrong.text
    assert right.status_code == 200
    assert "Il fornitore ha accettato le credenziali." in right.text
    assert "segreto-paypal" not in right.text
    assert "sbagliato" not in wrong.text
    with stack.rt.db.platform_session() as session:
        row = session.get(TenantDraft, draft_id)
        assert row is not None
        assert "segreto-paypal" not in json.dumps(row.answers)
        assert row.answers["payments"]["gateway_settings"]["paypal"]["client_id"] == "client-prova"
    assert "payments" in drafts.load_draft(stack.rt.db, draft_id).completed


def test_axerve_credentials_checked_on_save(stack: EmbeddedStack, admin: AdminLogin, tmp_path: Path) -> None:
    ca = TestCA(tmp_path / "ca")
    axerve = FakeAxerve(ca, shop_login="GESPAY12345", api_key="apikey-axerve-prova")
    settings = {"shop_login": "GESPAY12345", "api_key": "apikey-axerve-prova", "api_base_url": axerve.api_base_url,
                "ca_bundle": str(ca.ca_path), "timeout_seconds": "5"}
    try:
        with draft(stack, admin) as (client, token, path):
            payments = {"enabled_gateways": "sandbox\naxerve", "_csrf_token": token}
            wrong = client.post(f"{path}/payments", data={
                **payments, **_plugin_form("gateway_settings", "axerve", settings | {"api_key": "apikey-sbagliata"})})
            right = client.post(f"{path}/payments", data={
                **payments, **_plugin_form("gateway_settings", "axerve", settings)})
            offline = client.post(f"{path}/payments", data={
                **payments, **_plugin_form("gateway_settings", "axerve", settings | {
                    "api_base_url": f"https://127.0.0.1:{free_port_for_tests()}/api/v1"})})
    finally:
        axerve.stop()

    assert wrong.status_code == 400
    error = html.unescape(wrong.text.split('id="e-gateway_settings.axerve.api_key"', 1)[1].split("</p>", 1)[0])
    assert "Il fornitore ha rifiutato le credenziali: axerve: HTTP 403 code 1166 (Invalid ApiKey)" in error
    assert right.status_code == 200
    assert "Il fornitore ha accettato le credenziali." in right.text
    assert offline.status_code == 200
    assert ("Non è stato possibile raggiungere il fornitore per verificare le credenziali "
            "(axerve: POST /check/email/ failed: ConnectError)") in html.unescape(offline.text)
    for page in (wrong, right, offline):
        assert "apikey-axerve-prova" not in page.text
        assert "apikey-sbagliata" not in page.text
    assert axerve.orders == {}


def test_each_bad_line_and_part_shown_apart(stack: EmbeddedStack, admin: AdminLogin) -> None:
    slug = new_slug("ln")
    form = {**_forms(slug)["flow"], "test_recipients": f"email prove@{slug}.example\nsms 333\nemail prove@",
            "quiet_hours.start": "25:00", "quiet_hours.end": "08:00", "quiet_hours.timezone": "Europe/Roma"}
    with draft(stack, admin) as (client, token, path):
        refused = client.post(f"{path}/flow", data={**form, "_csrf_token": token})

    page = html.unescape(refused.text)
    recipients = page.split('id="e-test_recipients"', 1)[1].split("</ul>", 1)[0]
    assert refused.status_code == 400
    assert "Riga 1" not in recipients
    assert "Riga 2: 333 non è un numero di cellulare" in recipients
    assert "Riga 3: prove@ non è un indirizzo e-mail valido" in recipients
    assert "25:00" in page.split('id="e-quiet_hours.start"', 1)[1].split("</p>", 1)[0]
    assert 'id="e-quiet_hours.end"' not in page
    assert "Europe/Roma" in page.split('id="e-quiet_hours.timezone"', 1)[1].split("</p>", 1)[0]


def test_voices_and_retention_reach_the_tenant(stack: EmbeddedStack, admin: AdminLogin) -> None:
    voices = stack.rt.settings.data_path / "voices"
    voices.mkdir(parents=True, exist_ok=True)
    for name in ("it_IT-prova-medium.onnx", "it_IT-prova-medium.onnx.json"):
        (voices / name).write_bytes(b"{}")
    slug = new_slug("vo")
    forms = _forms(slug)
    forms["languages"] = {"languages": "it\nde", "voices.it": "it_IT-prova-medium"}
    forms["flow"] |= {"retention.bill_months": "36", "retention.event_months": "12", "retention.audit_years": "10"}
    with draft(stack, admin) as (client, token, path):
        page = client.get(f"{path}/languages")
        missing = client.post(f"{path}/languages", data={**forms["languages"], "voices.de": "de_DE-assente-medium",
                                                         "_csrf_token": token})
        short = client.post(f"{path}/flow", data={**forms["flow"], "retention.audit_years": "5", "_csrf_token": token})
        for step, form in forms.items():
            saved = client.post(f"{path}/{step}", data={**form, "_csrf_token": token})
            assert saved.status_code == 303, (step, saved.text[-1500:])
        client.post(f"{path}/activate", data={"_csrf_token": token})

    assert '<option value="it_IT-prova-medium">' in page.text
    assert missing.status_code == 400
    assert "de_DE-assente-medium" in missing.text.split('id="e-voices.de"', 1)[1].split("</p>", 1)[0]
    assert short.status_code == 400
    assert "5" in short.text.split('id="e-retention.audit_years"', 1)[1].split("</p>", 1)[0]
    config = registry.tenant_config(registry.get_tenant(stack.rt.db, slug))
    assert config.portal.voices == {"it": "it_IT-prova-medium"}
    assert (config.retention.bill_months, config.retention.event_months, config.retention.audit_years) == (36, 12, 10)


def test_contrast_shown_at_its_colour(stack: EmbeddedStack, admin: AdminLogin) -> None:
    look = _forms(new_slug("cc"))["look"] | {"branding.text_on_primary": "#3366aa"}
    with draft(stack, admin) as (client, token, path):
        rejected = client.post(f"{path}/look", data={**look, "_csrf_token": token})

    assert rejected.status_code == 400
    assert "WCAG" in rejected.text.split('id="e-branding.text_on_primary"', 1)[1].split("</p>", 1)[0]
    assert 'id="e-branding.primary_color"' not in rejected.text
    assert 'id="e-branding.accent_color"' not in rejected.text
