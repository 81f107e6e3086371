"""The onboarding wizard's pages: a platform admin onboards a utility from the first step to activation."""

from __future__ import annotations

import re
import zlib

from sqlalchemy import select

from bolletta.platform.db.models.platform import Tenant
from bolletta.platform.demo.identity import vat_number
from bolletta.platform.stack import EmbeddedStack
from bolletta.tenants.accounts import authenticate_sftp
from tests.integration.admin.console_support import AdminLogin, admin_client
from tests.integration.stack_support import csrf_token, mails_to, new_slug

SFTP_PASSWORD = "password-sftp-lunga"


def _vat_of(slug: str) -> str:
    """A partita IVA of the draft ``slug``, so no two drafts of a test run share one."""
    return vat_number(f"{zlib.crc32(slug.encode()) % 9_000_000 + 1_000_000}")


def _forms(slug: str) -> dict[str, dict[str, str]]:
    return {
        "company": {"legal_name": "Gas Valle S.r.l.", "vat_number": _vat_of(slug), "slug": slug,
                    "services": "gas", "notification_emails": f"lavorazioni@{slug}.example"},
        "look": {"branding.display_name": "Gas Valle", "branding.primary_color": "#0b4f8a",
                 "branding.accent_color": "#f2a900", "branding.text_on_primary": "#ffffff", "font": "system"},
        "messages": {"texts.it.sms": "{{ utility }}: bolletta {{ document_number }} {{ link }}",
                     "texts.ar.sms": "فاتورة {{ document_number }} {{ link }}"},
        "senders": {"channel_plugins.sms": "outbox", "channel_plugins.whatsapp": "outbox",
                    "channel_plugins.email": "smtp", "sms_sender": "GasValle",
                    "email_sender": f"bollette@{slug}.example"},
        "languages": {"languages": "it\nen"},
        "contacts": {"channel_mode": "all", "channel_priority": "sms\nemail", "fallback_delay_minutes": "60"},
        "payments": {"enabled_gateways": "sandbox"},
        "flow": {"flow_formats": "fatturapa\njsonl", "sftp_username": f"{slug}-flussi", "sftp_password": SFTP_PASSWORD,
                 "ticket_validity_days": "15", "test_recipients": "email prove@gasvalle.example\nsms +393330000001",
                 "quiet_hours.start": "21:00", "quiet_hours.end": "08:00"},
        "staff": {"username": f"{slug}-admin", "email": f"admin@{slug}.example", "full_name": "Giulia Prova"},
    }


def test_wizard_from_start_to_activation(stack: EmbeddedStack, admin: AdminLogin) -> None:
    slug = new_slug("wz")
    forms = _forms(slug)
    with admin_client(stack, admin) as client:
        token = csrf_token(client.get("/admin/onboarding").text)
        started = client.post("/admin/onboarding", data={"_csrf_token": token})
        draft_path = started.headers["location"].rsplit("/", 1)[0]
        bad_vat = client.post(f"{draft_path}/company", data={**forms["company"], "vat_number": "12345678901",
                                                             "_csrf_token": token})
        kept = client.get(f"{draft_path}/company")
        saved = {}
        for step, form in forms.items():
            saved[step] = client.post(f"{draft_path}/{step}", data={**form, "_csrf_token": token})
        preview = {**forms["messages"], "preview": "1", "_csrf_token": token}
        counted = client.post(f"{draft_path}/messages", data=preview)
        messages_page = client.get(f"{draft_path}/messages")
        summary = client.get(f"{draft_path}/activate")
        activated = client.post(f"{draft_path}/activate", data={"_csrf_token": token})
        tenant_page = client.get(activated.headers.get("location", "/admin/"))

    assert started.status_code == 303
    assert bad_vat.status_code == 400
    assert "non è una partita IVA valida" in bad_vat.text
    assert 'aria-invalid="true"' in bad_vat.text
    assert "12345678901" in kept.text  # what was typed is kept
    assert {step: response.headers.get("location") for step, response in saved.items()}["staff"] == \
        f"{draft_path}/activate"
    assert all(response.status_code == 303 for response in saved.values()), {
        step: re.findall(r'class="field-error">([^<]*)', response.text) for step, response in saved.items()}
    assert counted.headers["location"] == f"{draft_path}/messages"
    assert "Codifica: GSM-7" in messages_page.text
    assert "UCS-2" in messages_page.text
    assert "disabled" not in summary.text.split("Attiva")[-1].split("</form>")[0]
    assert activated.headers["location"] == f"/admin/tenants/{slug}"
    assert tenant_page.status_code == 200
    with stack.rt.db.platform_session() as session:
        assert session.scalar(select(Tenant.name).where(Tenant.slug == slug)) == "Gas Valle S.r.l."
    assert authenticate_sftp(stack.rt.db, f"{slug}-flussi", SFTP_PASSWORD) == slug
    assert mails_to(stack, f"admin@{slug}.example")


def test_activation_with_missing_steps_names_them(stack: EmbeddedStack, admin: AdminLogin) -> None:
    with admin_client(stack, admin) as client:
        token = csrf_token(client.get("/admin/onboarding").text)
        draft_path = client.post("/admin/onboarding", data={"_csrf_token": token}).headers["location"].rsplit("/", 1)[0]
        summary = client.get(f"{draft_path}/activate")
        refused = client.post(f"{draft_path}/activate", data={"_csrf_token": token})

    assert "disabled" in summary.text
    assert refused.status_code == 400
    assert "company" in refused.text


def test_wizard_italian_inputs(stack: EmbeddedStack, admin: AdminLogin) -> None:
    slug = new_slug("italiano")
    forms = _forms(slug)
    with admin_client(stack, admin) as client:
        token = csrf_token(client.get("/admin/onboarding").text)
        started = client.post("/admin/onboarding", data={"_csrf_token": token})
        base = started.headers["location"].rsplit("/", 1)[0]
        company = client.post(f"{base}/company", data={"_csrf_token": token, **forms["company"],
                                                       "services": "luce\nacqua"})
        look = client.post(f"{base}/look", data={"_csrf_token": token, **forms["look"],
                                                 "hidden_sections": "sommario"})
        senders = client.post(f"{base}/senders", data={"_csrf_token": token, **forms["senders"],
                                                       "channel_settings.smtp.host": "127.0.0.1",
                                                       "channel_settings.smtp.port": "abc"})
        flow = client.post(f"{base}/flow", data={"_csrf_token": token, **forms["flow"],
                                                 "test_recipients": "email prove@gasvalle.example\n\nsms 12345"})

    assert company.status_code == 303
    assert look.status_code == 400
    assert "non si può nascondere" in look.text
    assert senders.status_code == 400
    assert "Host del server (smtp)" in senders.text
    assert "abc non è un numero intero" in senders.text
    assert "STARTTLS" in senders.text.split('name="channel_settings.smtp.security"', 1)[1].split("</select>", 1)[0]
    assert flow.status_code == 400
    assert "<li>Riga 3: " in flow.text
