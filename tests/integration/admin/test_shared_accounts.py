"""Shared channel accounts in the console: platform admins only, secrets hidden, delete refused while used."""

from __future__ import annotations

import msgspec
from sqlalchemy import select

from bolletta.channels.twilio import TwilioChannel
from bolletta.platform.db.models.platform import PlatformAuditEntry
from bolletta.platform.dispatch import secrets, shared_accounts
from bolletta.platform.stack import EmbeddedStack
from bolletta.tenants.config import encode_config
from bolletta.tenants.registry import get_tenant, save_config, tenant_config
from bolletta.tenants.settings_editor.fields import SECTIONS
from bolletta.tenants.settings_editor.forms import form_values
from tests.integration.admin.console_support import AdminLogin, admin_client
from tests.integration.stack_support import StaffLogin, csrf_token, new_slug, signed_in_client

AUTH_TOKEN = "segreto-condiviso-0123456789"
FORM = {"account_sid": "AC0000000042", "auth_token": AUTH_TOKEN, "from_number": "+390000000042",
        "timeout_seconds": "10", "validity_period_seconds": "600"}


def add_account(client, name: str, plugin: str = "twilio"):  # type: ignore[no-untyped-def]
    token = csrf_token(client.get("/admin/shared-accounts").text)
    return client.post("/admin/shared-accounts", data={"_csrf_token": token, "name": name, "plugin": plugin})


def save_account(client, name: str, form: dict[str, str]):  # type: ignore[no-untyped-def]
    token = csrf_token(client.get(f"/admin/shared-accounts/{name}").text)
    return client.post(f"/admin/shared-accounts/{name}", data={"_csrf_token": token, **form})


def choose(stack: EmbeddedStack, tenant: str, accounts: dict[str, str]) -> None:
    config = tenant_config(get_tenant(stack.rt.db, tenant))
    save_config(stack.rt.db, tenant, msgspec.structs.replace(config, channel_accounts=accounts))


def test_add_and_edit_hide_secrets(stack: EmbeddedStack, admin: AdminLogin) -> None:
    name = new_slug("sms-condiviso")
    with admin_client(stack, admin) as client:
        created = add_account(client, name)
        duplicate = add_account(client, name)
        bad_name = add_account(client, "Nome Con Spazi")
        first = save_account(client, name, FORM)
        shown = client.get(f"/admin/shared-accounts/{name}")
        kept = save_account(client, name, {**FORM, "auth_token": "", "from_number": "+390000000043"})
        refused = save_account(client, name, {**FORM, "auth_token": "altro-segreto-9876",
                                              "validity_period_seconds": "dieci"})
        no_csrf = client.post(f"/admin/shared-accounts/{name}", data=FORM)
        listing = client.get("/admin/shared-accounts")

    assert created.headers["location"] == f"/admin/shared-accounts/{name}"
    assert duplicate.status_code == 400
    assert "exists already" in duplicate.text
    assert bad_name.status_code == 400
    assert "Nome Con Spazi" in bad_name.text
    assert first.headers["location"] == f"/admin/shared-accounts/{name}?saved=1"
    assert AUTH_TOKEN not in shown.text
    assert "AC0000000042" in shown.text
    assert kept.status_code == 303
    assert refused.status_code == 400
    assert "validity_period_seconds" in refused.text
    assert "altro-segreto-9876" not in refused.text
    assert no_csrf.status_code == 403
    assert f'data-account="{name}"' in listing.text
    account = shared_accounts.get_account(stack.rt, name)
    assert account is not None
    assert account.plugin == "twilio"
    assert AUTH_TOKEN not in repr(account.settings)  # encrypted at rest
    assert secrets.reveal(stack.rt, account.settings, TwilioChannel.secret_fields)["auth_token"] == AUTH_TOKEN
    assert account.settings["from_number"] == "+390000000043"
    with stack.rt.db.platform_session() as session:
        rows = session.execute(select(PlatformAuditEntry.action, PlatformAuditEntry.detail).where(
            PlatformAuditEntry.target == f"shared_account:{name}").order_by(PlatformAuditEntry.id)).all()
    assert [action for action, _ in rows] == ["shared_account.create", "shared_account.settings",
                                              "shared_account.settings"]
    assert AUTH_TOKEN not in repr(rows)


def test_delete_refused_while_a_tenant_uses_it(stack: EmbeddedStack, admin: AdminLogin, tenant: str) -> None:
    name = new_slug("in-uso")
    with admin_client(stack, admin) as client:
        add_account(client, name)
        choose(stack, tenant, {"sms": name})
        shared_accounts.record_sent(stack.rt, tenant, {(name, "sms"): 2})
        page = client.get(f"/admin/shared-accounts/{name}")
        refused = client.post(f"/admin/shared-accounts/{name}/delete", data={"_csrf_token": csrf_token(page.text)})
        choose(stack, tenant, {})
        deleted = client.post(f"/admin/shared-accounts/{name}/delete", data={"_csrf_token": csrf_token(page.text)})

    assert f'data-usage="{tenant}:' in page.text
    assert ":sms\"><td>" in page.text
    assert refused.status_code == 409
    assert tenant in refused.text
    assert deleted.headers["location"] == "/admin/shared-accounts"
    assert shared_accounts.get_account(stack.rt, name) is None
    assert [row.count for row in shared_accounts.usage(stack.rt, name)] == [2]  # the history stays


def test_tenant_staff_kept_out(stack: EmbeddedStack, admin: AdminLogin, tenant: str,
                               tenant_staff: dict[str, StaffLogin]) -> None:
    name = new_slug("riservato")
    with admin_client(stack, admin) as client:
        add_account(client, name)
    for login in tenant_staff.values():
        with signed_in_client(stack, login) as client:
            token = csrf_token(client.get("/office/").text)
            listing = client.get("/admin/shared-accounts")
            page = client.get(f"/admin/shared-accounts/{name}")
            posted = client.post(f"/admin/shared-accounts/{name}", data={"_csrf_token": token, **FORM})
            deleted = client.post(f"/admin/shared-accounts/{name}/delete", data={"_csrf_token": token})
        assert {listing.status_code, page.status_code, posted.status_code, deleted.status_code} == {403}, \
            login.staff.role
    assert shared_accounts.get_account(stack.rt, name) is not None


def test_only_the_platform_admin_chooses_a_shared_account(stack: EmbeddedStack, admin: AdminLogin, tenant: str,
                                                          tenant_staff: dict[str, StaffLogin]) -> None:
    name = new_slug("scelta")
    with admin_client(stack, admin) as client:
        add_account(client, name)
    form = form_values(SECTIONS["channels"], encode_config(tenant_config(get_tenant(stack.rt.db, tenant))))
    with signed_in_client(stack, tenant_staff["tenant_admin"]) as office:
        token = csrf_token(office.get("/office/settings/channels").text)
        office_post = office.post("/office/settings/channels",
                                  data={"_csrf_token": token, **form, "channel_accounts.sms": name})
    url = f"/admin/tenants/{tenant}/settings/channels"
    with admin_client(stack, admin) as client:
        token = csrf_token(client.get(url).text)
        missing = client.post(url, data={"_csrf_token": token, **form, "channel_accounts.sms": "inesistente"})
        wrong_plugin = client.post(url, data={"_csrf_token": token, **form, "channel_accounts.sms": name})
        config = tenant_config(get_tenant(stack.rt.db, tenant))
        save_config(stack.rt.db, tenant, msgspec.structs.replace(
            config, enabled_channels=[*config.enabled_channels, "twilio"]))
        saved = client.post(url, data={"_csrf_token": token, **form, "channel_plugins.sms": "twilio",
                                       "channel_accounts.sms": name})

    assert office_post.status_code == 403
    assert missing.status_code == 400
    assert "inesistente" in missing.text
    assert wrong_plugin.status_code == 400
    assert 'id="e-channel_accounts.sms"' in wrong_plugin.text
    assert saved.status_code == 303
    assert tenant_config(get_tenant(stack.rt.db, tenant)).channel_accounts == {"sms": name}
