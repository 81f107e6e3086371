"""The wizard's problems on bad values: one per field, all at once, in Italian."""

from __future__ import annotations

import html

import httpx

from bolletta.platform.stack import EmbeddedStack
from bolletta.tenants import accounts
from tests.fakes.images import image_bytes
from tests.integration.admin.console_support import AdminLogin
from tests.integration.admin.test_onboarding_pages import _forms
from tests.integration.admin.test_onboarding_tools import draft
from tests.integration.stack_support import new_slug


def _field_error(page: str, field: str) -> str:
    """Return the text of the problem shown next to ``field``, or "" when it has none."""
    marker = f'id="e-{field}" class="field-error">'
    if marker not in page:
        return ""
    return page.split(marker, 1)[1].split("</", 1)[0]


def test_look_problems_each_next_to_own_field(stack: EmbeddedStack, admin: AdminLogin) -> None:
    form = {**_forms(new_slug("lk"))["look"], "branding.accent_color": "red;}body{",
            "branding.support_phone": "abc", "branding.support_email": "x@", "branding.website": "javascript:"}
    with draft(stack, admin) as (client, token, path):
        refused = client.post(f"{path}/look", data={**form, "_csrf_token": token})

    page = html.unescape(refused.text)
    assert refused.status_code == 400
    assert _field_error(page, "branding.accent_color") == \
        "Il colore di accento vale red;}body{, che non è un colore come #0b4f8a."
    assert "abc" in _field_error(page, "branding.support_phone")
    assert "x@" in _field_error(page, "branding.support_email")
    assert "javascript:" in _field_error(page, "branding.website")
    for field in ("branding.display_name", "branding.primary_color", "branding.text_on_primary"):
        assert _field_error(page, field) == "", field


def test_contrast_problem_names_colours_in_italian(stack: EmbeddedStack, admin: AdminLogin) -> None:
    form = {**_forms(new_slug("ct"))["look"], "branding.text_on_primary": "#0c5090"}
    with draft(stack, admin) as (client, token, path):
        refused = client.post(f"{path}/look", data={**form, "_csrf_token": token})

    problem = _field_error(html.unescape(refused.text), "branding.text_on_primary")
    assert problem.startswith("Contrasto tra testo sul colore principale e colore principale: ")
    assert _field_error(html.unescape(refused.text), "branding.primary_color") == ""


def test_senders_problem_per_plugin_field(stack: EmbeddedStack, admin: AdminLogin) -> None:
    form = {**_forms(new_slug("sn"))["senders"], "channel_plugins.sms": "nonexistent",
            "channel_plugins.whatsapp": "smtp"}
    with draft(stack, admin) as (client, token, path):
        refused = client.post(f"{path}/senders", data={**form, "_csrf_token": token})

    page = html.unescape(refused.text)
    sms = _field_error(page, "channel_plugins.sms")
    whatsapp = _field_error(page, "channel_plugins.whatsapp")
    assert refused.status_code == 400
    assert sms.startswith("nonexistent non è un plugin installato che invia messaggi SMS; scegline uno tra ")
    assert "outbox" in sms
    assert whatsapp.startswith("smtp non è un plugin installato che invia messaggi WhatsApp")
    assert _field_error(page, "channel_plugins.email") == ""


def test_recipient_line_without_space_named(stack: EmbeddedStack, admin: AdminLogin) -> None:
    slug = new_slug("rc")
    form = {**_forms(slug)["flow"], "test_recipients": "tester@zeta.example\nemail,x@y.it\nsms +393330000001",
            "ticket_validity_days": "0"}
    with draft(stack, admin) as (client, token, path):
        refused = client.post(f"{path}/flow", data={**form, "_csrf_token": token})

    page = html.unescape(refused.text)
    recipients = page.split('id="e-test_recipients"', 1)[1].split("</ul>", 1)[0]
    assert refused.status_code == 400
    assert "tester@zeta.example non è un canale seguito da un indirizzo" in recipients
    assert "email,x@y.it non è un canale seguito da un indirizzo" in recipients
    assert "email prove@acme.it" in recipients
    assert "non si può leggere" not in page
    assert "0" in _field_error(page, "ticket_validity_days")


def _complete(client: httpx.Client, token: str, path: str, slug: str) -> None:
    for step, form in _forms(slug).items():
        saved = client.post(f"{path}/{step}", data={**form, "_csrf_token": token})
        assert saved.status_code == 303, (step, saved.text)


def test_failed_activation_reopens_step_in_italian(stack: EmbeddedStack, admin: AdminLogin) -> None:
    slug = new_slug("fa")
    with draft(stack, admin) as (client, token, path):
        _complete(client, token, path, slug)
        accounts.create_user(stack.rt.db, f"{slug}-admin", "x" * 20, "platform_admin")
        failed = client.post(f"{path}/activate", data={"_csrf_token": token})

    page = html.unescape(failed.text)
    alert = page.split('role="alert">', 1)[1].split("</p>", 1)[0]
    assert failed.status_code == 400
    assert "Primo amministratore" in alert
    assert f"Il nome utente {slug}-admin è già in uso" in alert
    assert "username" not in alert.replace(f"{slug}-admin", "")
    assert "Tutti i passi sono completi" not in page
    assert "Primo amministratore</a> ✓" not in page
    assert "disabled" in page.split("Attiva l'azienda")[0].rsplit("<form", 1)[1]


def test_database_failure_page_names_fix(stack: EmbeddedStack, admin: AdminLogin) -> None:
    slug = new_slug("fd")
    # A folder where the tenant's database file goes: SQLite cannot create the file.
    blocker = stack.rt.settings.data_path / "tenants" / f"{slug}.db"
    blocker.mkdir(parents=True)
    with draft(stack, admin) as (client, token, path):
        _complete(client, token, path, slug)
        failed = client.post(f"{path}/activate", data={"_csrf_token": token})
    blocker.rmdir()

    page = html.unescape(failed.text)
    alert = page.split('role="alert">', 1)[1].split("</p>", 1)[0]
    assert failed.status_code == 400
    assert "database e impostazioni" in alert
    assert (f"Non è stato possibile creare il file di database dell'azienda in {blocker.parent}. Controlla che "
            "la cartella esista") in alert
    assert "unable to open" not in page
    assert "OperationalError" not in page


def test_activated_draft_offers_no_activation(stack: EmbeddedStack, admin: AdminLogin) -> None:
    slug = new_slug("ad")
    with draft(stack, admin) as (client, token, path):
        _complete(client, token, path, slug)
        client.post(f"{path}/activate", data={"_csrf_token": token})
        summary = client.get(f"{path}/activate")
        again = client.post(f"{path}/activate", data={"_csrf_token": token})

    assert "Attiva l'azienda" not in summary.text
    assert f"/admin/tenants/{slug}" in summary.text
    assert "Attiva l'azienda" not in again.text
    assert f"è già l'azienda {slug}" in html.unescape(again.text)


def test_wizard_errors_are_italian_pages(stack: EmbeddedStack, admin: AdminLogin) -> None:
    with draft(stack, admin) as (client, _token, path):
        missing = client.get("/admin/onboarding/999999/company")
        unknown_step = client.get(f"{path}/nonsense")
        no_token = client.post(f"{path}/company", data={"legal_name": "X"})

    for response, status in ((missing, 404), (unknown_step, 404), (no_token, 403)):
        assert response.status_code == status
        assert response.headers["content-type"].startswith("text/html")
        assert '<html lang="it">' in response.text
    assert "non esiste" in missing.text
    assert "Ricarica la pagina" in html.unescape(no_token.text)


def test_failing_text_not_sent_as_test(stack: EmbeddedStack, admin: AdminLogin) -> None:
    senders = {**_forms(new_slug("nt"))["senders"], "channel_plugins.sms": "skebby"}
    with draft(stack, admin) as (client, token, path):
        client.post(f"{path}/senders", data={**senders, "_csrf_token": token})
        client.post(f"{path}/messages", data={"texts.it.sms": "Nessun link qui", "_csrf_token": token})
        refused = client.post(f"{path}/test-send", data={"kind": "sms", "recipient": "+393330000001",
                                                         "_csrf_token": token})

    outcome = html.unescape(refused.text).split('id="r-sms"', 1)[1].split("</ul>", 1)[0]
    assert refused.status_code == 400
    assert "Non viene inviata nessuna prova" in outcome
    assert "texts.it.sms" in outcome


def test_previews_show_draft_name_and_link(stack: EmbeddedStack, admin: AdminLogin) -> None:
    slug = new_slug("pv")
    forms = _forms(slug)
    look = {**forms["look"], "branding.display_name": "", "link_domain": f"bolletta.{slug}.example"}
    with draft(stack, admin) as (client, token, path):
        client.post(f"{path}/company", data={**forms["company"], "_csrf_token": token})
        client.post(f"{path}/look", data={**look, "_csrf_token": token})
        look_page = client.get(f"{path}/look")
        client.post(f"{path}/messages", data={"texts.it.sms": "{{ utility }}: {{ link }}", "_csrf_token": token})
        messages_page = client.get(f"{path}/messages")

    brand = look_page.text.split('class="look-preview"', 1)[1].split('class="brand-name">', 1)[1].split("<", 1)[0]
    preview = html.unescape(messages_page.text).split('id="preview"', 1)[1]
    assert brand == "Gas Valle S.r.l."
    assert "acme" not in preview
    assert f"Gas Valle S.r.l.: https://bolletta.{slug}.example/t/" in preview or f"/c/{slug}/t/" in preview


def test_email_text_needs_subject(stack: EmbeddedStack, admin: AdminLogin) -> None:
    form = {"texts.it.email_text": "Gentile cliente, la bolletta è qui: {{ link }}", "texts.it.email_subject": ""}
    with draft(stack, admin) as (client, token, path):
        refused = client.post(f"{path}/messages", data={**form, "_csrf_token": token})
        subject_only = client.post(f"{path}/messages", data={"texts.en.email_subject": "Your bill",
                                                              "_csrf_token": token})

    assert refused.status_code == 400
    assert _field_error(html.unescape(refused.text), "texts.it.email_subject").startswith("Scrivi l'oggetto")
    assert subject_only.status_code == 400
    assert _field_error(html.unescape(subject_only.text), "texts.en.email_text").startswith("Scrivi anche il testo")


def test_image_upload_sizes_reported_truly(stack: EmbeddedStack, admin: AdminLogin) -> None:
    with draft(stack, admin) as (client, token, path):
        too_big = client.post(f"{path}/image/look", data={"_csrf_token": token},
                              files={"image": ("big.png", image_bytes() + b"\x00" * 300_000, "image/png")})
        huge = client.post(f"{path}/image/look", data={"_csrf_token": token},
                           files={"image": ("huge.png", b"\x00" * 11_000_000, "image/png")})
        kept = client.post(f"{path}/image/look", data={"_csrf_token": token},
                           files={"image": ("logo.png", image_bytes("PNG", (300, 200)), "image/png")})
        page = client.get(f"{path}/look")

    size = len(image_bytes()) + 300_000
    assert too_big.status_code == 400
    assert f"{size / 1024:.1f}".replace(".", ",") + " KB" in html.unescape(too_big.text)
    assert huge.status_code == 413
    assert huge.headers["content-type"].startswith("text/html")
    assert "troppo grande" in huge.text
    assert kept.status_code == 303
    stored = f"{len(image_bytes('PNG', (300, 200))) / 1024:.1f}".replace(".", ",") + " KB"
    assert f"(image/png, {stored})" in page.text


def test_outbox_plugin_not_offered_for_tests(stack: EmbeddedStack, admin: AdminLogin) -> None:
    forms = _forms(new_slug("ob"))
    with draft(stack, admin) as (client, token, path):
        client.post(f"{path}/senders", data={**forms["senders"], "_csrf_token": token})
        page = client.get(f"{path}/senders")
        tried = client.post(f"{path}/test-send", data={"kind": "sms", "recipient": "+393330000001",
                                                       "_csrf_token": token})

    assert 'id="t-sms"' not in page.text
    assert 'id="t-email"' in page.text
    assert "non può essere provato" in page.text
    assert tried.status_code == 400
    outcome = html.unescape(tried.text).split('class="trial-outcomes"', 1)[-1]
    assert "Questo plugin conserva i messaggi nella piattaforma" in html.unescape(tried.text)
    assert "message store" not in outcome


def test_wizard_pages_have_one_charset(stack: EmbeddedStack, admin: AdminLogin) -> None:
    with draft(stack, admin) as (client, token, path):
        step = client.get(f"{path}/look")
        preview = client.post(f"/admin/onboarding/{path.rsplit('/', 1)[1]}/preview/look",
                              data={**_forms(new_slug("cs"))["look"], "_csrf_token": token})

    assert step.headers["content-type"] == "text/html; charset=utf-8"
    assert preview.headers["content-type"] == "text/html; charset=utf-8"


def test_shared_vat_number_warned(stack: EmbeddedStack, admin: AdminLogin) -> None:
    first, second = new_slug("iv"), new_slug("iv")
    company = _forms(first)["company"]
    with draft(stack, admin) as (client, token, path):
        alone = client.post(f"{path}/company", data={**company, "_csrf_token": token})
    with draft(stack, admin) as (client, token, path):
        shared = client.post(f"{path}/company", data={**company, "slug": second, "_csrf_token": token})

    note = html.unescape(shared.text).split('class="field-note" role="status">', 1)[1].split("</p>", 1)[0]
    assert alone.status_code == 303
    assert shared.status_code == 200
    assert note.startswith(f"La partita IVA {company['vat_number']} è già usata da #")


def test_sms_length_counts_gsm7_units(stack: EmbeddedStack, admin: AdminLogin) -> None:
    with draft(stack, admin) as (client, token, path):
        client.post(f"{path}/messages", data={"texts.it.sms": "€" * 80 + " {{ link }}", "preview": "1",
                                              "_csrf_token": token})
        page = html.unescape(client.get(f"{path}/messages").text)

    form_length = page.split('class="sms-length">', 1)[1].split("</p>", 1)[0]
    assert "Caratteri: 91 · Unità SMS: 175 (153 per parte) · Codifica: GSM-7 · Parti SMS: 2" in form_length
    preview_length = page.split('id="preview"', 1)[1].split('class="sms-length">', 1)[1].split("</p>", 1)[0]
    assert "Unità SMS: " in preview_length


def test_unreadable_number_named_others_checked(stack: EmbeddedStack, admin: AdminLogin) -> None:
    form = {**_forms(new_slug("nr"))["flow"], "ticket_validity_days": "quindici", "quiet_hours.start": "25:00"}
    with draft(stack, admin) as (client, token, path):
        refused = client.post(f"{path}/flow", data={**form, "_csrf_token": token})

    page = html.unescape(refused.text)
    assert refused.status_code == 400
    assert _field_error(page, "ticket_validity_days") == \
        "quindici non si può leggere qui: scrivi un numero intero come 15."
    assert "25:00" in _field_error(page, "quiet_hours.start")
