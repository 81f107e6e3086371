"""A tenant's settings in the console: every field editable, versions restorable, other roles kept out."""

from __future__ import annotations

import msgspec
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from bolletta.platform.db.models.platform import PlatformAuditEntry
from bolletta.platform.sftp import credentials
from bolletta.platform.stack import EmbeddedStack
from bolletta.tenants.config import SftpPollSettings, encode_config
from bolletta.tenants.images import email_header_key
from bolletta.tenants.registry import SETTINGS_CHANGED, get_tenant, save_config, tenant_config
from bolletta.tenants.settings_editor.fields import SECTION_LIST, SECTIONS
from bolletta.tenants.settings_editor.forms import form_values
from tests.fakes.images import image_bytes
from tests.integration.admin.console_support import AdminLogin, admin_client
from tests.integration.stack_support import StaffLogin, csrf_token, signed_in_client

DISPATCH = {"ticket_validity_days": "20", "test_batch_size": "3", "test_ticket_validity_hours": "48",
            "test_recipients": "email collaudo@acme.example\nsms +39 333 1234567"}


def test_platform_only_fields_saved(stack: EmbeddedStack, tenant: str, admin: AdminLogin) -> None:
    with admin_client(stack, admin) as client:
        listing = client.get(f"/admin/tenants/{tenant}/settings")
        page = client.get(f"/admin/tenants/{tenant}/settings/dispatch")
        token = csrf_token(page.text)
        saved = client.post(f"/admin/tenants/{tenant}/settings/dispatch",
                            data={"_csrf_token": token, **DISPATCH})
        retention = client.post(f"/admin/tenants/{tenant}/settings/retention", data={
            "_csrf_token": token, "retention.bill_months": "36", "retention.event_months": "12",
            "retention.audit_years": "12"})
        too_short = client.post(f"/admin/tenants/{tenant}/settings/retention", data={
            "_csrf_token": token, "retention.bill_months": "36", "retention.event_months": "12",
            "retention.audit_years": "5"})

    assert listing.status_code == 200
    assert f'href="/admin/tenants/{tenant}/settings/flow"' in listing.text
    assert "disabled" not in page.text.split("<form", 2)[2].split("</form>", 1)[0]
    assert saved.headers["location"] == f"/admin/tenants/{tenant}/settings/dispatch?notice=saved"
    assert retention.status_code == 303
    assert too_short.status_code == 400
    assert 'id="e-retention.audit_years"' in too_short.text
    config = tenant_config(get_tenant(stack.rt.db, tenant))
    assert config.may_start_dispatch is False  # an unticked box
    assert config.ticket_validity_days == 20
    # The settings editor stores the typed "+39 333 1234567" in E.164 form.
    assert [recipient.address for recipient in config.test_recipients] == ["collaudo@acme.example",
                                                                          "+393331234567"]
    assert (config.retention.bill_months, config.retention.audit_years) == (36, 12)
    with stack.rt.db.platform_session() as session:
        actors = set(session.scalars(select(PlatformAuditEntry.actor).where(
            PlatformAuditEntry.target == tenant, PlatformAuditEntry.action == SETTINGS_CHANGED)))
    assert actors == {f"user:{admin.username}"}


def test_flow_mapping_checked(stack: EmbeddedStack, tenant: str, admin: AdminLogin) -> None:
    form = {"flow_formats": "fatturapa\njsonl", "customer_code_source": "altri_dati:CODICE_CLIENTE",
            "series_pattern": r"(?P<series>[A-Z]+)/(?P<year>\d{4})/\d+", "supply_address_types": "Ind.POD",
            "cost_rules": "", "costs_layout": "", "sftp_quota_bytes": "1073741824"}
    with admin_client(stack, admin) as client:
        token = csrf_token(client.get(f"/admin/tenants/{tenant}/settings/flow").text)
        rejected = client.post(f"/admin/tenants/{tenant}/settings/flow", data={
            "_csrf_token": token, **form, "flow_formats": "pdf", "series_pattern": "(["})
        saved = client.post(f"/admin/tenants/{tenant}/settings/flow", data={"_csrf_token": token, **form})

    assert rejected.status_code == 400
    assert 'id="e-flow_formats"' in rejected.text
    assert 'id="e-series_pattern"' in rejected.text
    assert saved.status_code == 303
    config = tenant_config(get_tenant(stack.rt.db, tenant))
    assert config.flow_formats == ["fatturapa", "jsonl"]
    assert config.sftp_quota_bytes == 1073741824


def test_restore_from_console(stack: EmbeddedStack, tenant: str, admin: AdminLogin,
                              tenant_staff: dict[str, StaffLogin]) -> None:
    url = f"/admin/tenants/{tenant}/settings/dispatch"
    with admin_client(stack, admin) as client:
        token = csrf_token(client.get(url).text)
        client.post(url, data={"_csrf_token": token, **DISPATCH})  # also switches may_start_dispatch off
        client.post(url, data={"_csrf_token": token, **DISPATCH, "ticket_validity_days": "30"})
        history = client.get(url)
    newest = history.text.split('data-version="', 1)[1].split('"', 1)[0]
    oldest = history.text.rsplit('data-version="', 1)[1].split('"', 1)[0]
    with signed_in_client(stack, tenant_staff["tenant_admin"]) as office:
        office_token = csrf_token(office.get("/office/settings/dispatch").text)
        refused = office.post(f"/office/settings/dispatch/versions/{oldest}", data={"_csrf_token": office_token})
        allowed = office.post(f"/office/settings/dispatch/versions/{newest}", data={"_csrf_token": office_token})
    after_office = tenant_config(get_tenant(stack.rt.db, tenant))
    with admin_client(stack, admin) as client:
        restored = client.post(f"{url}/versions/{oldest}", data={"_csrf_token": csrf_token(client.get(url).text)})

    assert refused.status_code == 403
    assert allowed.status_code == 303
    assert (after_office.ticket_validity_days, after_office.may_start_dispatch) == (20, False)
    assert restored.headers["location"] == f"{url}?notice=restored"
    config = tenant_config(get_tenant(stack.rt.db, tenant))
    assert (config.ticket_validity_days, config.may_start_dispatch) == (15, True)


def test_staff_kept_out(stack: EmbeddedStack, tenant: str, tenant_staff: dict[str, StaffLogin]) -> None:
    for login in tenant_staff.values():
        with signed_in_client(stack, login) as client:
            token = csrf_token(client.get("/office/").text)
            page = client.get(f"/admin/tenants/{tenant}/settings/company")
            posted = client.post(f"/admin/tenants/{tenant}/settings/dispatch",
                                 data={"_csrf_token": token, **DISPATCH, "may_start_dispatch": "1"})
        assert page.status_code == 403, login.staff.role
        assert posted.status_code == 403, login.staff.role


def test_unknown_tenant_or_section(stack: EmbeddedStack, tenant: str, admin: AdminLogin) -> None:
    with admin_client(stack, admin) as client:
        missing_tenant = client.get("/admin/tenants/nessuno/settings/company")
        missing_section = client.get(f"/admin/tenants/{tenant}/settings/segreti")

    assert missing_tenant.status_code == 404
    assert missing_section.status_code == 404


def test_message_texts_from_console(stack: EmbeddedStack, tenant: str, admin: AdminLogin) -> None:
    url = f"/admin/tenants/{tenant}/settings/messages"
    sms = "{{ utility }}: bolletta {{ document_number }} in scadenza il {{ due_date }}. {{ link }}"
    with admin_client(stack, admin) as client:
        page = client.get(url)
        saved = client.post(url, data={"_csrf_token": csrf_token(page.text), "texts.it.sms": sms})
        rejected = client.post(url, data={"_csrf_token": csrf_token(page.text),
                                          "texts.it.sms": "Gentile {{ customer_name }} {{ link }}"})

    assert page.status_code == 200
    assert f'action="{url}"' in page.text
    assert saved.headers["location"] == f"{url}?saved=1"
    assert rejected.status_code == 400
    assert 'id="e-texts.it.sms"' in rejected.text
    texts = tenant_config(get_tenant(stack.rt.db, tenant)).message_texts["it"]
    assert texts.sms == sms


@pytest.mark.parametrize("section", [section.name for section in SECTION_LIST
                                     if section.name not in ("company", "images")])  # images: upload forms only
def test_unchanged_section_saves(stack: EmbeddedStack, tenant: str, admin: AdminLogin, section: str) -> None:
    before = tenant_config(get_tenant(stack.rt.db, tenant))
    form = form_values(SECTIONS[section], encode_config(before))
    with admin_client(stack, admin) as client:
        page = client.get(f"/admin/tenants/{tenant}/settings/{section}")
        saved = client.post(f"/admin/tenants/{tenant}/settings/{section}",
                            data={"_csrf_token": csrf_token(page.text), **form})

    assert page.status_code == 200
    assert saved.status_code == 303, saved.text[-3000:]
    assert tenant_config(get_tenant(stack.rt.db, tenant)) == before


def test_sftp_server_secret_kept(stack: EmbeddedStack, tenant: str, admin: AdminLogin,
                                 tenant_staff: dict[str, StaffLogin]) -> None:
    url = f"/admin/tenants/{tenant}/settings/sftp-server"
    form = {"sftp_poll.host": "sftp.acme.example", "sftp_poll.port": "2222", "sftp_poll.username": "bolletta",
            "sftp_poll.host_key_fingerprint": "SHA256:Zm9vYmFy", "sftp_poll.remote_dir": "uscita",
            "sftp_poll.after_download": "move", "sftp_poll.processed_dir": "presi",
            "sftp_poll.max_file_bytes": "1000000", "sftp_poll.timeout_seconds": "12,5",
            "sftp_poll.interval_minutes": "30"}
    with admin_client(stack, admin) as client:
        token = csrf_token(client.get(url).text)
        missing_login = client.post(url, data={"_csrf_token": token, **form})
        saved = client.post(url, data={"_csrf_token": token, **form, "sftp_poll.password": "password-segreta-9"})
        sealed = tenant_config(get_tenant(stack.rt.db, tenant)).sftp_poll
        kept = client.post(url, data={"_csrf_token": token, **form, "sftp_poll.port": "22"})
        page = client.get(url)
    poll = tenant_config(get_tenant(stack.rt.db, tenant)).sftp_poll
    stored = _stored_settings(stack, tenant)
    with signed_in_client(stack, tenant_staff["tenant_admin"]) as office:
        office_page = office.get("/office/settings/sftp-server")
        office_post = office.post("/office/settings/sftp-server",
                                  data={"_csrf_token": csrf_token(office_page.text), **form})
    with admin_client(stack, admin) as client:
        removed = client.post(url, data={"_csrf_token": csrf_token(client.get(url).text), "sftp_poll.host": ""})

    assert missing_login.status_code == 400
    assert 'id="e-sftp_poll.password"' in missing_login.text
    assert saved.status_code == 303
    assert kept.status_code == 303
    assert poll is not None
    assert sealed is not None
    assert poll.password == sealed.password
    assert (credentials.open_login(stack.rt, poll).password, poll.port, poll.timeout_seconds) == (
        "password-segreta-9", 22, 12.5)
    assert "password-segreta-9" not in stored
    assert "password-segreta-9" not in page.text
    assert credentials.SEALED_PREFIX not in page.text
    assert "Impostato" in page.text
    assert 'name="sftp_poll.host" type="text" value="sftp.acme.example" disabled' in office_page.text
    assert "password-segreta-9" not in office_page.text
    assert office_post.status_code == 403
    assert removed.status_code == 303
    assert tenant_config(get_tenant(stack.rt.db, tenant)).sftp_poll is None
    with stack.rt.db.platform_session() as session:
        details = list(session.scalars(select(PlatformAuditEntry.detail).where(PlatformAuditEntry.target == tenant)))
    assert not any("password-segreta-9" in str(detail) for detail in details)
    assert not any(credentials.SEALED_PREFIX in str(detail) for detail in details)


def test_sftp_clear_secret_sealed_on_save(stack: EmbeddedStack, tenant: str, admin: AdminLogin) -> None:
    url = f"/admin/tenants/{tenant}/settings/sftp-server"
    config = tenant_config(get_tenant(stack.rt.db, tenant))
    # A password stored in clear, as versions before the encryption did.
    save_config(stack.rt.db, tenant, msgspec.structs.replace(config, sftp_poll=SftpPollSettings(
        host="sftp.acme.example", username="bolletta", password="password-in-chiaro-3",
        host_key_fingerprint="SHA256:Zm9vYmFy")))
    before = _stored_settings(stack, tenant)
    form = form_values(SECTIONS["sftp-server"], encode_config(tenant_config(get_tenant(stack.rt.db, tenant))))
    with admin_client(stack, admin) as client:
        saved = client.post(url, data={"_csrf_token": csrf_token(client.get(url).text), **form})
    poll = tenant_config(get_tenant(stack.rt.db, tenant)).sftp_poll

    assert "password-in-chiaro-3" in before
    assert saved.status_code == 303, saved.text[-3000:]
    assert "password-in-chiaro-3" not in _stored_settings(stack, tenant)
    assert poll is not None
    assert credentials.open_login(stack.rt, poll).password == "password-in-chiaro-3"


def test_sftp_undecryptable_secret_entered_again(stack: EmbeddedStack, tenant: str, admin: AdminLogin) -> None:
    url = f"/admin/tenants/{tenant}/settings/sftp-server"
    foreign_token = Fernet(Fernet.generate_key()).encrypt(b"password-altrove-4").decode()
    config = tenant_config(get_tenant(stack.rt.db, tenant))
    save_config(stack.rt.db, tenant, msgspec.structs.replace(config, sftp_poll=SftpPollSettings(
        host="sftp.acme.example", username="bolletta", password=credentials.SEALED_PREFIX + foreign_token,
        host_key_fingerprint="SHA256:Zm9vYmFy")))
    form = form_values(SECTIONS["sftp-server"], encode_config(tenant_config(get_tenant(stack.rt.db, tenant))))
    with admin_client(stack, admin) as client:
        token = csrf_token(client.get(url).text)
        rejected = client.post(url, data={"_csrf_token": token, **form})
        saved = client.post(url, data={"_csrf_token": token, **form, "sftp_poll.password": "password-nuova-5"})
    poll = tenant_config(get_tenant(stack.rt.db, tenant)).sftp_poll

    assert rejected.status_code == 400
    assert 'id="e-sftp_poll.password"' in rejected.text
    assert saved.status_code == 303, saved.text[-3000:]
    assert poll is not None
    assert credentials.open_login(stack.rt, poll).password == "password-nuova-5"


def _stored_settings(stack: EmbeddedStack, tenant: str) -> str:
    """Return the tenant's settings column as the database stores it, read without the ORM."""
    with stack.rt.db.platform_session() as session:
        raw = session.execute(text("SELECT settings FROM tenants WHERE slug = :slug"), {"slug": tenant}).scalar_one()
    return raw if isinstance(raw, str) else str(raw)


def test_concurrent_sections_both_kept(stack: EmbeddedStack, tenant: str) -> None:
    stale = tenant_config(get_tenant(stack.rt.db, tenant))
    other = tenant_config(get_tenant(stack.rt.db, tenant))
    other.sms_sender = "Altro"
    save_config(stack.rt.db, tenant, other, actor="test")

    stale.email_sender = "nuovo@acme.example"
    save_config(stack.rt.db, tenant, stale, actor="test", only=["email_sender"])

    config = tenant_config(get_tenant(stack.rt.db, tenant))
    assert config.sms_sender == "Altro"
    assert config.email_sender == "nuovo@acme.example"


PNG = image_bytes("PNG")
JPEG = image_bytes("JPEG")


def test_images_replaced_from_console(stack: EmbeddedStack, tenant: str, admin: AdminLogin) -> None:
    url = f"/admin/tenants/{tenant}/settings"
    with admin_client(stack, admin) as client:
        token = csrf_token(client.get(f"{url}/images").text)
        logo = client.post(f"{url}/uploads/logo", data={"_csrf_token": token},
                           files={"image": ("logo.jpg", JPEG, "image/jpeg")})
        header = client.post(f"{url}/uploads/email-header", data={"_csrf_token": token},
                             files={"image": ("testata.png", PNG, "image/png")})
        served = client.get(f"/c/{tenant}/logo")
        preview = client.get(f"{url}/uploads/email-header")
        mislabelled = client.post(f"{url}/uploads/email-header", data={"_csrf_token": token},
                                  files={"image": ("testata.png", b"%PDF-1.7\n" + b"\x00" * 64, "image/png")})
        unknown = client.post(f"{url}/uploads/favicon", data={"_csrf_token": token},
                              files={"image": ("icona.png", PNG, "image/png")})

    assert logo.headers["location"] == f"{url}/images?notice=saved"
    assert header.status_code == 303
    assert (served.headers["content-type"], served.content) == ("image/jpeg", JPEG)
    assert (preview.headers["content-type"], preview.content) == ("image/png", PNG)
    assert mislabelled.status_code == 400
    assert 'id="e-email-header"' in mislabelled.text
    assert unknown.status_code == 404
    config = tenant_config(get_tenant(stack.rt.db, tenant))
    assert (config.email_header_key, config.email_header_type) == (email_header_key(PNG), "image/png")
    with stack.rt.db.platform_session() as session:
        actors = set(session.scalars(select(PlatformAuditEntry.actor).where(
            PlatformAuditEntry.target == tenant, PlatformAuditEntry.action == SETTINGS_CHANGED)))
    assert actors == {f"user:{admin.username}"}


def test_whatsapp_templates_from_console(stack: EmbeddedStack, tenant: str, admin: AdminLogin) -> None:
    url = f"/admin/tenants/{tenant}/settings/whatsapp"
    form = {"whatsapp_templates.it.name": "bolletta_pronta", "whatsapp_templates.it.language_code": "it",
            "whatsapp_templates.it.category": "UTILITY", "whatsapp_templates.it.body_parameters": "utility\nlink"}
    with admin_client(stack, admin) as client:
        page = client.get(url)
        token = csrf_token(page.text)
        rejected = client.post(url, data={"_csrf_token": token, **form, "whatsapp_templates.it.category": "MARKETING"})
        saved = client.post(url, data={"_csrf_token": token, **form})

    assert 'name="whatsapp_templates.ar.name"' in page.text
    assert rejected.status_code == 400
    assert 'id="e-whatsapp_templates.it.category"' in rejected.text
    assert saved.status_code == 303
    template = tenant_config(get_tenant(stack.rt.db, tenant)).whatsapp_templates["it"]
    assert (template.name, template.body_parameters) == ("bolletta_pronta", ["utility", "link"])


def test_staff_kept_out_of_console_images(stack: EmbeddedStack, tenant: str,
                                          tenant_staff: dict[str, StaffLogin]) -> None:
    for login in tenant_staff.values():
        with signed_in_client(stack, login) as client:
            token = csrf_token(client.get("/office/").text)
            page = client.get(f"/admin/tenants/{tenant}/settings/images")
            posted = client.post(f"/admin/tenants/{tenant}/settings/uploads/logo", data={"_csrf_token": token},
                                 files={"image": ("logo.png", PNG, "image/png")})
        assert page.status_code == 403, login.staff.role
        assert posted.status_code == 403, login.staff.role
    assert tenant_config(get_tenant(stack.rt.db, tenant)).portal.logo_url == ""


def _hidden(html: str, name: str) -> str:
    return html.split(f'name="{name}" value="', 1)[1].split('"', 1)[0]


def test_stale_form_rejected(stack: EmbeddedStack, tenant: str, admin: AdminLogin,
                             tenant_staff: dict[str, StaffLogin]) -> None:
    url = f"/admin/tenants/{tenant}/settings/company"
    with admin_client(stack, admin) as client:
        opened = client.get(url)
    form = form_values(SECTIONS["company"], encode_config(tenant_config(get_tenant(stack.rt.db, tenant))))
    form |= {"vat_number": "01234560017", "notification_emails": "staff@acme.example",
             "branding.support_phone": "+39 800 111 222"}
    with signed_in_client(stack, tenant_staff["tenant_admin"]) as office:
        page = office.get("/office/settings/company")
        typed = {name: value for name, value in form.items() if name != "link_domain"}
        office_saved = office.post("/office/settings/company", data=typed | {
            "_csrf_token": csrf_token(page.text), "_version": _hidden(page.text, "_version"),
            "branding.support_phone": "+39 800 333 444"})
    with admin_client(stack, admin) as client:
        token = csrf_token(client.get(url).text)
        stale = client.post(url, data=form | {"_csrf_token": token, "_version": _hidden(opened.text, "_version"),
                                              "branding.website": "https://nuovo.acme.example"})
        again = client.post(url, data=form | {"_csrf_token": token, "_version": _hidden(stale.text, "_version"),
                                              "branding.website": "https://nuovo.acme.example"})

    assert office_saved.status_code == 303
    assert stale.status_code == 400
    assert "Qualcuno ha modificato questa sezione" in stale.text
    assert 'value="https://nuovo.acme.example"' in stale.text
    assert again.status_code == 400
    config = tenant_config(get_tenant(stack.rt.db, tenant))
    assert config.branding.support_phone == "+39 800 333 444"
    assert config.branding.website != "https://nuovo.acme.example"


def test_unconfigured_gateway_rejected(stack: EmbeddedStack, tenant: str, admin: AdminLogin) -> None:
    url = f"/admin/tenants/{tenant}/settings/payments"
    with admin_client(stack, admin) as client:
        token = csrf_token(client.get(url).text)
        rejected = client.post(url, data={"_csrf_token": token, "enabled_gateways": "sandbox\npaypal",
                                          "payment_reconcile_after_minutes": "120"})
        saved = client.post(url, data={"_csrf_token": token, "enabled_gateways": "sandbox",
                                       "payment_reconcile_after_minutes": "90"})

    assert rejected.status_code == 400
    problem = rejected.text.split('id="e-enabled_gateways"', 1)[1].split("</p>", 1)[0]
    assert "paypal" in problem
    assert "non ha impostazioni" in problem
    assert saved.status_code == 303
    config = tenant_config(get_tenant(stack.rt.db, tenant))
    assert config.enabled_gateways == ["sandbox"]
    assert config.payment_reconcile_after_minutes == 90


def test_sftp_secrets_not_echoed(stack: EmbeddedStack, tenant: str, admin: AdminLogin) -> None:
    url = f"/admin/tenants/{tenant}/settings/sftp-server"
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nnon-una-chiave-vera\n-----END OPENSSH PRIVATE KEY-----"
    form = {"sftp_poll.host": "sftp.acme.example", "sftp_poll.port": "99999", "sftp_poll.username": "bolletta",
            "sftp_poll.password": "password-segreta-7", "sftp_poll.private_key": key,
            "sftp_poll.host_key_fingerprint": "SHA256:Zm9vYmFy", "sftp_poll.remote_dir": "uscita",
            "sftp_poll.after_download": "move", "sftp_poll.processed_dir": "presi",
            "sftp_poll.max_file_bytes": "1000000", "sftp_poll.timeout_seconds": "30",
            "sftp_poll.interval_minutes": "30"}
    with admin_client(stack, admin) as client:
        rejected = client.post(url, data={"_csrf_token": csrf_token(client.get(url).text), **form})

    assert rejected.status_code == 400
    assert 'id="e-sftp_poll.port"' in rejected.text
    assert "non-una-chiave-vera" not in rejected.text
    assert "password-segreta-7" not in rejected.text
    assert 'value="sftp.acme.example"' in rejected.text


def test_restore_refusals_in_italian(stack: EmbeddedStack, tenant: str, admin: AdminLogin,
                                     tenant_staff: dict[str, StaffLogin]) -> None:
    url = f"/admin/tenants/{tenant}/settings/dispatch"
    with admin_client(stack, admin) as client:
        token = csrf_token(client.get(url).text)
        client.post(url, data={"_csrf_token": token, **DISPATCH})  # also switches may_start_dispatch off
    with signed_in_client(stack, tenant_staff["tenant_admin"]) as office:
        history = office.get("/office/settings/dispatch")
        version = history.text.split('data-version="', 1)[1].split('"', 1)[0]
        refused = office.post(f"/office/settings/dispatch/versions/{version}",
                              data={"_csrf_token": csrf_token(history.text)})
        without_token = office.post(f"/office/settings/dispatch/versions/{version}", data={})
        unknown = office.post("/office/settings/dispatch/versions/999999",
                              data={"_csrf_token": csrf_token(history.text)})

    row = history.text.split(f'data-version="{version}"', 1)[1].split("</tr>", 1)[0]
    assert "disabled" in row
    assert "solo il gestore della piattaforma" in row
    assert "avvia da sé i propri inoltri, che modifica solo" in row
    assert "tojson" not in row
    assert "<code>ticket_validity_days</code>" not in row
    assert "Giorni di validità di un link" in row
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("text/html")
    assert "non è stata ripristinata" in refused.text
    assert without_token.status_code == 403
    assert without_token.headers["content-type"].startswith("text/html")
    assert "Il modulo è scaduto" in without_token.text
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("text/html")
    assert "Quella versione delle impostazioni non esiste" in unknown.text
