"""The tenant admin's images and WhatsApp templates after activation, and the colour problems by field."""

from __future__ import annotations

import html

import httpx
import pytest
from sqlalchemy import select

from bolletta.platform.db.models.platform import PlatformAuditEntry
from bolletta.platform.db.models.tenant import AuditEntry
from bolletta.platform.stack import EmbeddedStack
from bolletta.platform.storage import tenant_key
from bolletta.tenants.images import MAX_IMAGE_BYTES, email_header_key, image_digest, logo_storage_key
from bolletta.tenants.registry import SETTINGS_CHANGED, get_tenant, tenant_config
from tests.fakes.images import image_bytes
from tests.integration.office.test_settings_sections import _company_form
from tests.integration.stack_support import (
    StaffLogin,
    create_staff,
    create_test_tenant,
    csrf_token,
    new_slug,
    signed_in_client,
)

PNG = image_bytes("PNG")
JPEG = image_bytes("JPEG")
GIF = b"GIF89a" + b"\x00" * 64


@pytest.fixture
def admin(stack: EmbeddedStack, tenant: str) -> StaffLogin:
    return create_staff(stack, f"{tenant}.amministratore", "tenant_admin", tenant)


def _token(client: httpx.Client, section: str = "images") -> str:
    return csrf_token(client.get(f"/office/settings/{section}").text)


def _upload(client: httpx.Client, token: str, image: str, data: bytes, name: str = "immagine.png",
            content_type: str = "image/png") -> httpx.Response:
    return client.post(f"/office/settings/uploads/{image}", data={"_csrf_token": token},
                       files={"image": (name, data, content_type)})


def _settings_entries(stack: EmbeddedStack, tenant: str) -> list[PlatformAuditEntry]:
    with stack.rt.db.platform_session() as session:
        return list(session.scalars(select(PlatformAuditEntry).where(
            PlatformAuditEntry.target == tenant, PlatformAuditEntry.action == SETTINGS_CHANGED)
            .order_by(PlatformAuditEntry.id)))


def test_logo_replaced_removed_restored(stack: EmbeddedStack, tenant: str, admin: StaffLogin) -> None:
    with signed_in_client(stack, admin) as client:
        token = _token(client)
        first = _upload(client, token, "logo", PNG)
        served_first = client.get(f"/c/{tenant}/logo")
        second = _upload(client, token, "logo", JPEG, "logo.jpg", "image/jpeg")
        served_second = client.get(f"/c/{tenant}/logo")
        page = client.get("/office/settings/images")
        removed = client.post("/office/settings/uploads/logo", data={"_csrf_token": token, "remove": "1"},
                              files={"image": ("", b"", "application/octet-stream")})
        served_removed = client.get(f"/c/{tenant}/logo")
        history = client.get("/office/settings/page")
        newest = history.text.split('data-version="', 1)[1].split('"', 1)[0]
        restored = client.post(f"/office/settings/page/versions/{newest}", data={"_csrf_token": token})
        served_restored = client.get(f"/c/{tenant}/logo")

    assert first.headers["location"] == "/office/settings/images?notice=saved"
    assert (served_first.status_code, served_first.headers["content-type"], served_first.content) == (
        200, "image/png", PNG)
    assert second.status_code == 303
    assert (served_second.headers["content-type"], served_second.content) == ("image/jpeg", JPEG)
    assert 'src="/office/settings/uploads/logo"' in page.text
    assert removed.headers["location"] == "/office/settings/images?notice=removed"
    assert served_removed.status_code == 404
    assert restored.status_code == 303
    assert served_restored.content == JPEG
    assert stack.rt.storage.get(tenant_key(tenant, logo_storage_key(PNG))) == PNG  # replaced files are kept
    entries = _settings_entries(stack, tenant)
    logo_urls = [(entry.detail["before"]["portal"]["logo_url"], entry.detail["after"]["portal"]["logo_url"])
                 for entry in entries]
    png_url, jpeg_url = f"/c/{tenant}/logo?v={image_digest(PNG)}", f"/c/{tenant}/logo?v={image_digest(JPEG)}"
    assert logo_urls == [("", png_url), (png_url, jpeg_url), (jpeg_url, ""), ("", jpeg_url)]
    assert {entry.actor for entry in entries} == {f"user:{admin.staff.username}"}
    with stack.rt.db.tenant_session(tenant) as session:
        hows = [entry.detail.get("how") for entry in session.scalars(
            select(AuditEntry).where(AuditEntry.action == "settings.changed").order_by(AuditEntry.id))]
    assert hows == ["replaced", "replaced", "removed", "restored"]


def test_email_header_versions(stack: EmbeddedStack, tenant: str, admin: StaffLogin) -> None:
    with signed_in_client(stack, admin) as client:
        token = _token(client)
        _upload(client, token, "email-header", PNG)
        _upload(client, token, "email-header", JPEG, "testata.jpg", "image/jpeg")
        preview = client.get("/office/settings/uploads/email-header")
        page = client.get("/office/settings/images")
        newest = page.text.split('data-version="', 1)[1].split('"', 1)[0]
        restored = client.post(f"/office/settings/images/versions/{newest}", data={"_csrf_token": token})
        form_post = client.post("/office/settings/images", data={
            "_csrf_token": token, "email_header_key": "../altra/assets/segreto", "email_header_type": "text/html"})

    assert (preview.headers["content-type"], preview.content) == ("image/jpeg", JPEG)
    assert 'src="/office/settings/uploads/email-header"' in page.text
    assert restored.headers["location"] == "/office/settings/images?notice=restored"
    assert form_post.status_code == 404
    config = tenant_config(get_tenant(stack.rt.db, tenant))
    assert (config.email_header_key, config.email_header_type) == (email_header_key(PNG), "image/png")
    assert stack.rt.storage.get(tenant_key(tenant, email_header_key(JPEG))) == JPEG
    [*_, replaced, restore] = _settings_entries(stack, tenant)
    assert replaced.detail["before"]["email_header_key"] == email_header_key(PNG)
    assert replaced.detail["after"] == {"email_header_key": email_header_key(JPEG), "email_header_type": "image/jpeg"}
    assert restore.detail["after"]["email_header_key"] == email_header_key(PNG)


@pytest.mark.parametrize(("data", "name", "content_type", "words"), [
    (GIF, "logo.gif", "image/gif", "Il file non è un'immagine PNG o JPEG"),
    (GIF, "logo.png", "image/png", "Il file non è un'immagine PNG o JPEG"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "logo.svg", "image/svg+xml", "Il file non è un'immagine PNG o JPEG"),
    (PNG + b"\x00" * MAX_IMAGE_BYTES, "grande.png", "image/png", "il limite è 200,0 KB"),
    (b"", "vuoto.png", "image/png", "Scegli un file PNG o JPEG da caricare."),
])
def test_bad_file_named_at_upload(stack: EmbeddedStack, tenant: str, admin: StaffLogin, data: bytes, name: str,
                                  content_type: str, words: str) -> None:
    before = tenant_config(get_tenant(stack.rt.db, tenant))
    with signed_in_client(stack, admin) as client:
        refused = _upload(client, _token(client), "logo", data, name, content_type)

    assert refused.status_code == 400
    assert words in html.unescape(refused.text.split('id="e-logo"', 1)[1].split("</p>", 1)[0])
    assert 'id="e-email-header"' not in refused.text
    assert tenant_config(get_tenant(stack.rt.db, tenant)) == before


def test_images_need_csrf_token(stack: EmbeddedStack, tenant: str, admin: StaffLogin) -> None:
    with signed_in_client(stack, admin) as client:
        forged = client.post("/office/settings/uploads/logo", files={"image": ("logo.png", PNG, "image/png")})

    assert forged.status_code == 403
    assert tenant_config(get_tenant(stack.rt.db, tenant)).portal.logo_url == ""


def test_images_other_roles_forbidden(stack: EmbeddedStack, tenant: str, operator: StaffLogin,
                                      viewer: StaffLogin) -> None:
    for login in (operator, viewer):
        with signed_in_client(stack, login) as client:
            token = csrf_token(client.get("/office/").text)
            page = client.get("/office/settings/images")
            uploaded = _upload(client, token, "logo", PNG)
            removed = client.post("/office/settings/uploads/email-header", data={"_csrf_token": token, "remove": "1"},
                                  files={"image": ("", b"", "application/octet-stream")})
            preview = client.get("/office/settings/uploads/email-header")
            templates = client.post("/office/settings/whatsapp", data={
                "_csrf_token": token, "whatsapp_templates.it.name": "bolletta_pronta"})
        assert page.status_code == 403, login.staff.role
        assert uploaded.status_code == 403, login.staff.role
        assert removed.status_code == 403, login.staff.role
        assert preview.status_code == 403, login.staff.role
        assert templates.status_code == 403, login.staff.role
    config = tenant_config(get_tenant(stack.rt.db, tenant))
    assert config.portal.logo_url == ""
    assert config.whatsapp_templates == {}


def test_other_tenant_images_out_of_reach(stack: EmbeddedStack, tenant: str, admin: StaffLogin) -> None:
    other = create_test_tenant(stack, new_slug("altra"))
    with signed_in_client(stack, admin) as client:
        token = _token(client)
        console = client.post(f"/admin/tenants/{other}/settings/uploads/logo", data={"_csrf_token": token},
                              files={"image": ("logo.png", PNG, "image/png")})
        preview = client.get(f"/admin/tenants/{other}/settings/uploads/email-header")

    assert console.status_code == 403
    assert preview.status_code == 403
    assert tenant_config(get_tenant(stack.rt.db, other)).portal.logo_url == ""


TEMPLATE_FORM = {
    "whatsapp_templates.it.name": "bolletta_pronta", "whatsapp_templates.it.language_code": "it",
    "whatsapp_templates.it.category": "UTILITY", "whatsapp_templates.it.body_parameters": "utility\ndue_date",
    "whatsapp_templates.it.url_button": "1",
    "whatsapp_templates.en.name": "bill_ready", "whatsapp_templates.en.language_code": "en_US",
    "whatsapp_templates.en.category": "UTILITY", "whatsapp_templates.en.body_parameters": "document_number\nlink",
    "whatsapp_templates.de.category": "UTILITY",
}


def test_whatsapp_templates_saved_and_restored(stack: EmbeddedStack, tenant: str, admin: StaffLogin) -> None:
    with signed_in_client(stack, admin) as client:
        token = _token(client, "whatsapp")
        saved = client.post("/office/settings/whatsapp", data={"_csrf_token": token, **TEMPLATE_FORM})
        shown = client.get("/office/settings/whatsapp")
        changed = client.post("/office/settings/whatsapp", data={
            "_csrf_token": token, **TEMPLATE_FORM, "whatsapp_templates.it.name": "bolletta_nuova"})
        history = client.get("/office/settings/whatsapp")
        newest = history.text.split('data-version="', 1)[1].split('"', 1)[0]
        restored = client.post(f"/office/settings/whatsapp/versions/{newest}", data={"_csrf_token": token})

    assert saved.headers["location"] == "/office/settings/whatsapp?notice=saved"
    assert 'value="bill_ready"' in shown.text
    assert "(en)</label>" in shown.text
    assert changed.status_code == 303
    assert restored.headers["location"] == "/office/settings/whatsapp?notice=restored"
    templates = tenant_config(get_tenant(stack.rt.db, tenant)).whatsapp_templates
    assert sorted(templates) == ["en", "it"]  # the German inputs were left empty
    assert templates["it"].name == "bolletta_pronta"
    assert templates["it"].body_parameters == ["utility", "due_date"]
    assert templates["it"].url_button is True
    assert templates["en"].url_button is False
    [*_, change, restore] = _settings_entries(stack, tenant)
    assert change.detail["before"]["whatsapp_templates"]["it"]["name"] == "bolletta_pronta"
    assert change.detail["after"]["whatsapp_templates"]["it"]["name"] == "bolletta_nuova"
    assert restore.detail["after"]["whatsapp_templates"]["it"]["name"] == "bolletta_pronta"


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"whatsapp_templates.it.name": "Bolletta Pronta"}, "whatsapp_templates.it.name",
     "Bolletta Pronta non è un nome di modello"),
    ({"whatsapp_templates.it.name": ""}, "whatsapp_templates.it.name", "Scrivi il nome del modello approvato da Meta."),
    ({"whatsapp_templates.en.language_code": "english"}, "whatsapp_templates.en.language_code", "english"),
    ({"whatsapp_templates.it.category": "MARKETING"}, "whatsapp_templates.it.category", "UTILITY"),
    ({"whatsapp_templates.it.body_parameters": "utility\ncustomer_name"}, "whatsapp_templates.it.body_parameters",
     "customer_name"),
    ({"whatsapp_templates.it.url_button": ""}, "whatsapp_templates.it.body_parameters",
     "Il modello non porta il link"),
])
def test_bad_template_named_at_field(stack: EmbeddedStack, tenant: str, admin: StaffLogin, changes: dict[str, str],
                                     field: str, words: str) -> None:
    with signed_in_client(stack, admin) as client:
        rejected = client.post("/office/settings/whatsapp",
                               data={"_csrf_token": _token(client, "whatsapp"), **TEMPLATE_FORM, **changes})

    assert rejected.status_code == 400
    shown = html.unescape(rejected.text.split(f'id="e-{field}"', 1)[1].split("</p>", 1)[0])
    assert words in shown
    assert rejected.text.count('class="field-error"') == 1
    assert tenant_config(get_tenant(stack.rt.db, tenant)).whatsapp_templates == {}


def test_contrast_shown_at_its_colour(stack: EmbeddedStack, tenant: str, admin: StaffLogin) -> None:
    with signed_in_client(stack, admin) as client:
        rejected = client.post("/office/settings/company", data=_company_form(
            _token(client, "company"), **{"branding.text_on_primary": "#3366aa"}))

    assert rejected.status_code == 400
    assert "WCAG" in rejected.text.split('id="e-branding.text_on_primary"', 1)[1].split("</p>", 1)[0]
    assert 'id="e-branding.primary_color"' not in rejected.text
    assert 'id="e-branding.accent_color"' not in rejected.text
