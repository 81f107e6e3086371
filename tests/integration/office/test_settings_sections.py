"""The tenant admin's settings sections: save, field errors, platform-only fields, versions and restore."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import select

from bolletta.platform.db.models.platform import PlatformAuditEntry
from bolletta.platform.db.models.tenant import AuditEntry
from bolletta.platform.stack import EmbeddedStack
from bolletta.tenants.registry import SETTINGS_CHANGED, get_tenant, save_config, tenant_config
from tests.integration.stack_support import (
    StaffLogin,
    create_staff,
    create_test_tenant,
    csrf_token,
    new_slug,
    signed_in_client,
)

VAT_NUMBER = "01234560017"
"""A made-up partita IVA with a correct check digit."""


def _company_form(token: str, **changes: str) -> dict[str, str]:
    form = {"_csrf_token": token, "vat_number": VAT_NUMBER, "notification_emails": "staff@acme.example",
            "branding.display_name": "ACME Energia", "branding.primary_color": "#0b4f8a",
            "branding.accent_color": "#f2a900", "branding.text_on_primary": "#ffffff",
            "branding.support_phone": "+39 800 123 456", "branding.support_email": "aiuto@acme.example",
            "branding.website": "https://acme.example"}
    return form | changes


def _token(client: httpx.Client, section: str = "company") -> str:
    return csrf_token(client.get(f"/office/settings/{section}").text)


@pytest.fixture
def admin(stack: EmbeddedStack, tenant: str) -> StaffLogin:
    return create_staff(stack, f"{tenant}.amministratore", "tenant_admin", tenant)


def test_section_saved_with_audit(stack: EmbeddedStack, tenant: str, admin: StaffLogin) -> None:
    with signed_in_client(stack, admin) as client:
        listing = client.get("/office/settings")
        saved = client.post("/office/settings/company", data=_company_form(_token(client)))
        shown = client.get(saved.headers["location"])

    assert listing.status_code == 200
    assert 'href="/office/settings/quiet-hours"' in listing.text
    assert saved.status_code == 303
    assert saved.headers["location"] == "/office/settings/company?notice=saved"
    assert "Salvato come nuova versione." in shown.text
    config = tenant_config(get_tenant(stack.rt.db, tenant))
    assert config.vat_number == VAT_NUMBER
    assert config.branding.display_name == "ACME Energia"
    with stack.rt.db.platform_session() as session:
        entry = session.scalars(select(PlatformAuditEntry).where(PlatformAuditEntry.target == tenant,
                                                                  PlatformAuditEntry.action == SETTINGS_CHANGED)
                                .order_by(PlatformAuditEntry.id.desc())).first()
    assert entry is not None
    assert entry.actor == f"user:{admin.staff.username}"
    assert entry.detail["before"]["vat_number"] == ""
    assert entry.detail["after"]["vat_number"] == VAT_NUMBER
    with stack.rt.db.tenant_session(tenant) as session:
        entries = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "settings.changed")))
    assert [entry.target for entry in entries] == ["company"]
    assert entries[0].ip == "127.0.0.1"


def test_invalid_fields_shown_others_kept(stack: EmbeddedStack, tenant: str, admin: StaffLogin) -> None:
    before = tenant_config(get_tenant(stack.rt.db, tenant))
    with signed_in_client(stack, admin) as client:
        rejected = client.post("/office/settings/company", data=_company_form(
            _token(client), vat_number="01234560018", **{"branding.primary_color": "#ffff00",
                                                        "branding.display_name": "Nome Nuovo"}))
        unreadable = client.post("/office/settings/dispatch", data={
            "_csrf_token": _token(client), "ticket_validity_days": "quindici", "test_batch_size": "3",
            "test_ticket_validity_hours": "48", "test_recipients": "email collaudo@acme.example"})

    assert rejected.status_code == 400
    assert 'id="e-vat_number"' in rejected.text
    assert "non è una partita IVA valida" in rejected.text
    assert 'id="e-branding.text_on_primary"' in rejected.text or 'id="e-branding.primary_color"' in rejected.text
    assert "WCAG" in rejected.text
    assert 'value="Nome Nuovo"' in rejected.text
    assert unreadable.status_code == 400
    assert 'id="e-ticket_validity_days"' in unreadable.text
    assert "quindici non è un numero intero: inseriscine uno da 1 a 365." in unreadable.text
    assert 'id="e-test_batch_size"' not in unreadable.text
    assert tenant_config(get_tenant(stack.rt.db, tenant)) == before


def test_platform_only_fields_rejected(stack: EmbeddedStack, tenant: str, admin: StaffLogin) -> None:
    before = tenant_config(get_tenant(stack.rt.db, tenant))
    with signed_in_client(stack, admin) as client:
        page = client.get("/office/settings/dispatch")
        token = csrf_token(page.text)
        posted = client.post("/office/settings/dispatch", data={
            "_csrf_token": token, "ticket_validity_days": "20", "test_batch_size": "3",
            "test_ticket_validity_hours": "48", "test_recipients": "", "may_start_dispatch": ""})
        domain = client.post("/office/settings/company", data=_company_form(token, link_domain="evil.example"))
        retention = client.post("/office/settings/retention", data={
            "_csrf_token": token, "retention.bill_months": "24", "retention.event_months": "24",
            "retention.audit_years": "10"})

    assert 'name="may_start_dispatch" value="1" checked disabled' in page.text
    assert posted.status_code == 403
    assert domain.status_code == 403
    assert retention.status_code == 403
    assert tenant_config(get_tenant(stack.rt.db, tenant)) == before


def test_other_roles_forbidden(stack: EmbeddedStack, tenant: str, operator: StaffLogin, viewer: StaffLogin) -> None:
    for login in (operator, viewer):
        with signed_in_client(stack, login) as client:
            token = csrf_token(client.get("/office/").text)
            listing = client.get("/office/settings")
            page = client.get("/office/settings/company")
            posted = client.post("/office/settings/company", data=_company_form(token))
            restored = client.post("/office/settings/company/versions/1", data={"_csrf_token": token})
        assert listing.status_code == 403
        assert page.status_code == 403
        assert posted.status_code == 403
        assert restored.status_code == 403


def test_other_tenant_out_of_reach(stack: EmbeddedStack, tenant: str, admin: StaffLogin) -> None:
    other = create_test_tenant(stack, new_slug("altra"))
    config = tenant_config(get_tenant(stack.rt.db, other))
    config.sms_sender = "Altra"
    save_config(stack.rt.db, other, config, actor="test")
    with stack.rt.db.platform_session() as session:
        version = session.scalar(select(PlatformAuditEntry.id).where(PlatformAuditEntry.target == other))
    with signed_in_client(stack, admin) as client:
        token = _token(client)
        console = client.get(f"/admin/tenants/{other}/settings/company")
        console_post = client.post(f"/admin/tenants/{other}/settings/channels",
                                   data={"_csrf_token": token, "sms_sender": "Preso"})
        restored = client.post(f"/office/settings/channels/versions/{version}", data={"_csrf_token": token})

    assert console.status_code == 403
    assert console_post.status_code == 403
    assert restored.status_code == 404
    assert tenant_config(get_tenant(stack.rt.db, other)).sms_sender == "Altra"


def test_version_restored(stack: EmbeddedStack, tenant: str, admin: StaffLogin) -> None:
    quiet = {"quiet_hours.start": "22:00", "quiet_hours.end": "07:30", "quiet_hours.timezone": "Europe/Rome",
             "quiet_hours.kinds": "sms\nwhatsapp"}
    with signed_in_client(stack, admin) as client:
        token = _token(client, "quiet-hours")
        first = client.post("/office/settings/quiet-hours", data={"_csrf_token": token, **quiet})
        second = client.post("/office/settings/quiet-hours",
                             data={"_csrf_token": token, **quiet, "quiet_hours.start": "20:00"})
        history = client.get("/office/settings/quiet-hours")
        newest = history.text.split('data-version="', 1)[1].split('"', 1)[0]
        forged = client.post(f"/office/settings/quiet-hours/versions/{newest}", data={})
        restored = client.post(f"/office/settings/quiet-hours/versions/{newest}", data={"_csrf_token": token})
        bad_time = client.post("/office/settings/quiet-hours",
                               data={"_csrf_token": token, **quiet, "quiet_hours.end": "25:00"})

    assert first.status_code == 303
    assert second.status_code == 303
    assert "&#34;20:00&#34;" in history.text or "20:00" in history.text
    assert forged.status_code == 403  # no CSRF token
    assert restored.headers["location"] == "/office/settings/quiet-hours?notice=restored"
    quiet_hours = tenant_config(get_tenant(stack.rt.db, tenant)).quiet_hours
    assert quiet_hours.start == "22:00"
    assert quiet_hours.kinds == ["sms", "whatsapp"]
    assert bad_time.status_code == 400
    assert 'id="e-quiet_hours.end"' in bad_time.text


@pytest.mark.parametrize(("source", "expected"), [
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "ambiente protetto vieta"),
    ("{{ 'x' * 10**9 }}", "oltre il limite di lunghezza"),
    ("{{ 'x'.ljust(800000000) }}", "oltre il limite di lunghezza"),
    ("{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}", "oltre il limite"),
    ("{% macro m(n) %}{{ m(n+1) }}{% endmacro %}{{ m(0) }}", "richiama una macro dentro sé stessa senza fine"),
    ("Scade il {{ due_dat }}", "due_dat non è un campo utilizzabile"),
    ('<meta http-equiv="refresh" content="0;url=http://127.0.0.1:9/phish">', "HTML che la pagina non mostra"),
    ('<a href="javascript:alert(1)">Paga</a>', "HTML che la pagina non mostra"),
])
def test_bad_block_rejected(stack: EmbeddedStack, tenant: str, admin: StaffLogin, source: str,
                            expected: str) -> None:
    with signed_in_client(stack, admin) as client:
        token = _token(client, "page")
        form = {"_csrf_token": token, "portal.languages": "it\nen", "portal.font": "system",
                "portal.blocks.importi": source}
        rejected = client.post("/office/settings/page", data=form)
        accepted = client.post("/office/settings/page",
                               data=form | {"portal.blocks.importi": "Scade il {{ due_date }}."})

    assert rejected.status_code == 400
    assert 'id="e-portal.blocks.importi"' in rejected.text
    assert expected in rejected.text
    assert accepted.status_code == 303
    assert tenant_config(get_tenant(stack.rt.db, tenant)).portal.blocks == {"importi": "Scade il {{ due_date }}."}


def test_history_hides_credentials(stack: EmbeddedStack, tenant: str, admin: StaffLogin) -> None:
    config = tenant_config(get_tenant(stack.rt.db, tenant))
    config.channel_settings = {"outbox": {"api_key": "chiave-segreta-123"}}
    config.sms_sender = "Primo"
    save_config(stack.rt.db, tenant, config, actor="test")
    with signed_in_client(stack, admin) as client:
        token = _token(client, "channels")
        saved = client.post("/office/settings/channels", data={
            "_csrf_token": token, "email_sender": "bollette@acme.example", "sms_sender": "Secondo",
            "bills_by_email": "off"})
        history = client.get("/office/settings/channels")

    assert saved.status_code == 303
    assert "chiave-segreta-123" not in history.text
    with stack.rt.db.platform_session() as session:
        details = [json.dumps(detail) for detail in session.scalars(
            select(PlatformAuditEntry.detail).where(PlatformAuditEntry.target == tenant))]
    assert details
    assert not any("chiave-segreta-123" in detail for detail in details)
    assert any('"api_key": "(redacted)"' in detail for detail in details)


def test_platform_section_read_only(stack: EmbeddedStack, tenant: str, admin: StaffLogin) -> None:
    with signed_in_client(stack, admin) as client:
        page = client.get("/office/settings/flow")

    assert page.status_code == 200
    assert 'name="flow_formats" rows="3" disabled' in page.text
    assert "<button type=\"submit\">Salva</button>" not in page.text


@pytest.mark.parametrize(("section", "form", "field"), [
    ("dispatch", {"ticket_validity_days": "15", "test_batch_size": "1", "test_ticket_validity_hours": "48",
                  "test_recipients": "email collaudo@acme.example\nsms 12345"}, "test_recipients"),
    ("company", _company_form("", notification_emails="staff@acme.example\nnon-un-indirizzo"),
     "notification_emails"),
    ("page", {"portal.languages": "it\nen", "portal.voices": "de = de_DE-thorsten-medium", "portal.font": "system"},
     "portal.voices"),
])
def test_bad_line_shown_at_field(stack: EmbeddedStack, tenant: str, admin: StaffLogin, section: str,
                                 form: dict[str, str], field: str) -> None:
    with signed_in_client(stack, admin) as client:
        rejected = client.post(f"/office/settings/{section}", data=form | {"_csrf_token": _token(client, section)})

    assert rejected.status_code == 400
    assert f'id="e-{field}"' in rejected.text


@pytest.mark.parametrize(("section", "form", "field"), [
    ("dispatch", {"ticket_validity_days": "15", "test_batch_size": "1", "test_ticket_validity_hours": "48",
                  "test_recipients": "email collaudo@acme.example\n\n  \nsms 12345"}, "test_recipients"),
    ("page", {"portal.languages": "it", "portal.voices": "\n\n\nit it_IT-paola-medium", "portal.font": "system"},
     "portal.voices"),
])
def test_bad_line_numbered_as_typed(stack: EmbeddedStack, tenant: str, admin: StaffLogin, section: str,
                                    form: dict[str, str], field: str) -> None:
    with signed_in_client(stack, admin) as client:
        rejected = client.post(f"/office/settings/{section}", data=form | {"_csrf_token": _token(client, section)})

    assert rejected.status_code == 400
    problem = rejected.text.split(f'id="e-{field}"', 1)[1].split("</ul>", 1)[0]
    assert "<li>Riga 4: " in problem


def test_page_checks_match_wizard(stack: EmbeddedStack, tenant: str, admin: StaffLogin) -> None:
    form = {"portal.languages": "it", "portal.font": "system"}
    with signed_in_client(stack, admin) as client:
        token = _token(client, "page")
        missing_voice = client.post("/office/settings/page", data=form | {"_csrf_token": token,
                                                                          "portal.voices": "it = nope"})
        hidden_summary = client.post("/office/settings/page", data=form | {"_csrf_token": token,
                                                                           "portal.hidden_sections": "sommario"})

    assert missing_voice.status_code == 400
    assert "La voce nope non è installata" in missing_voice.text.split('id="e-portal.voices"', 1)[1]
    assert hidden_summary.status_code == 400
    assert "non si può nascondere" in hidden_summary.text.split('id="e-portal.hidden_sections"', 1)[1]
    assert tenant_config(get_tenant(stack.rt.db, tenant)).portal.voices == {}


def test_fallback_delay_range_shown(stack: EmbeddedStack, tenant: str, admin: StaffLogin) -> None:
    before = tenant_config(get_tenant(stack.rt.db, tenant))
    with signed_in_client(stack, admin) as client:
        rejected = client.post("/office/settings/contacts", data={
            "_csrf_token": _token(client, "contacts"), "contact_sources": "flow", "channel_mode": "all",
            "channel_priority": "email", "fallback_delay_minutes": "99999"})

    assert rejected.status_code == 400
    assert 'id="e-fallback_delay_minutes"' in rejected.text
    assert "99999 è fuori dall&#39;intervallo ammesso, da 0 a 10080." in rejected.text.replace("&#x27;", "&#39;")
    assert tenant_config(get_tenant(stack.rt.db, tenant)) == before
