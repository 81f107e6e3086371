"""The plugin catalogue, enabling plugins per tenant, and the channel settings form's hidden secrets."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bolletta.platform.db.models.platform import PlatformAuditEntry
from bolletta.platform.db.models.tenant import AuditEntry
from bolletta.platform.dispatch import channels, secrets
from bolletta.platform.dispatch.channels import plugin_for_tenant
from bolletta.platform.errors import ConfigurationError
from bolletta.platform.payments.credentials import open_settings
from bolletta.platform.payments.gateways import gateway_class, gateway_for
from bolletta.platform.plugins import PluginLoadError, PluginSet
from bolletta.platform.stack import EmbeddedStack
from bolletta.tenants.registry import get_tenant, tenant_config
from tests.fakes.axerve import FakeAxerve
from tests.fakes.channel_server import free_port_for_tests
from tests.fakes.paypal import FakePaypal
from tests.fakes.tls import TestCA
from tests.integration.admin.console_support import AdminLogin, admin_client
from tests.integration.stack_support import csrf_token

AUTH_TOKEN = "segreto-di-prova-0123456789"


def config_of(stack: EmbeddedStack, tenant: str):  # type: ignore[no-untyped-def]
    return tenant_config(get_tenant(stack.rt.db, tenant))


def switch(client: httpx.Client, tenant: str, kind: str, plugin: str, enabled: str) -> httpx.Response:
    token = csrf_token(client.get(f"/admin/tenants/{tenant}").text)
    return client.post(f"/admin/tenants/{tenant}/plugins/{kind}/{plugin}", data={"_csrf_token": token,
                                                                                 "enabled": enabled})


def test_catalogue_lists_channels_gateways_and_load_errors(stack: EmbeddedStack, admin: AdminLogin,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    installed = channels.installed_channels()
    broken = PluginSet(plugins=installed.plugins,
                       errors=[PluginLoadError("bolletta.channels", "piccione", "import failed: ImportError: no")])
    monkeypatch.setattr(channels, "installed_channels", lambda: broken)

    with admin_client(stack, admin) as client:
        page = client.get("/admin/plugins")

    assert page.status_code == 200
    for plugin in ("channel:outbox", "channel:twilio", "gateway:sandbox", "gateway:paypal"):
        assert f'data-plugin="{plugin}"' in page.text, plugin
    assert re.search(r'data-plugin="channel:piccione">.*import failed: ImportError: no', page.text)
    assert "auth_token" in page.text  # secret field names are listed, never their values


def test_plugin_switch_changes_tenant_use(stack: EmbeddedStack, admin: AdminLogin,
                                                           tenant: str) -> None:
    assert "sandbox" in config_of(stack, tenant).enabled_gateways
    with admin_client(stack, admin) as client:
        off = switch(client, tenant, "channel", "outbox", "0")
        gateway_off = switch(client, tenant, "gateway", "sandbox", "0")
        config_off = config_of(stack, tenant)
        on = switch(client, tenant, "channel", "outbox", "1")
        unknown = switch(client, tenant, "channel", "piccione", "1")
        bad_kind = switch(client, tenant, "flow", "outbox", "1")

    assert off.headers["location"] == gateway_off.headers["location"] == f"/admin/tenants/{tenant}"
    with pytest.raises(ConfigurationError, match="not enabled"):
        plugin_for_tenant(stack.rt, tenant, config_off, "outbox")
    with pytest.raises(ConfigurationError, match="not enabled"):
        gateway_for(stack.rt, tenant, config_off, "sandbox")
    assert on.status_code == 303
    assert plugin_for_tenant(stack.rt, tenant, config_of(stack, tenant), "outbox").id == "outbox"
    assert "sandbox" not in config_of(stack, tenant).enabled_gateways
    assert unknown.status_code == 404
    assert bad_kind.status_code == 400
    with stack.rt.db.tenant_session(tenant) as session:
        tenant_actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert tenant_actions == ["channel.disable", "gateway.disable", "channel.enable"]
    with stack.rt.db.platform_session() as session:
        rows = session.execute(select(PlatformAuditEntry.action, PlatformAuditEntry.actor, PlatformAuditEntry.detail)
                               .where(PlatformAuditEntry.target == tenant,
                                      PlatformAuditEntry.action != "tenant.settings_changed")
                               .order_by(PlatformAuditEntry.id)).all()
    actor = f"user:{admin.username}"
    assert [tuple(row) for row in rows] == [("channel.disable", actor, {"plugin": "outbox"}),
                                            ("gateway.disable", actor, {"plugin": "sandbox"}),
                                            ("channel.enable", actor, {"plugin": "outbox"})]


def save(client: httpx.Client, tenant: str, form: dict[str, str]) -> httpx.Response:
    token = csrf_token(client.get(f"/admin/tenants/{tenant}/channels/twilio").text)
    return client.post(f"/admin/tenants/{tenant}/channels/twilio", data={"_csrf_token": token, **form})


def test_settings_form_hides_secrets(stack: EmbeddedStack, admin: AdminLogin,
                                                                       tenant: str) -> None:
    form = {"account_sid": "AC0123456789", "auth_token": AUTH_TOKEN, "from_number": "+390000000001",
            "timeout_seconds": "10", "validity_period_seconds": "600"}
    with admin_client(stack, admin) as client:
        switch(client, tenant, "channel", "twilio", "1")
        first = save(client, tenant, form)
        shown = client.get(f"/admin/tenants/{tenant}/channels/twilio")
        kept = save(client, tenant, {**form, "auth_token": "", "from_number": "+390000000002"})
        refused = save(client, tenant, {**form, "auth_token": "altro-segreto-9876", "validity_period_seconds": "dieci"})

    assert first.headers["location"] == f"/admin/tenants/{tenant}/channels/twilio?saved=1"
    assert shown.status_code == 200
    assert AUTH_TOKEN not in shown.text
    assert "AC0123456789" in shown.text  # a plain field is shown
    assert kept.status_code == 303
    assert refused.status_code == 400
    assert "validity_period_seconds" in refused.text
    assert "altro-segreto-9876" not in refused.text
    stored = config_of(stack, tenant).channel_settings["twilio"]
    assert AUTH_TOKEN not in repr(stored)  # encrypted at rest
    assert secrets.reveal(stack.rt, stored, {"auth_token"})["auth_token"] == AUTH_TOKEN
    assert stored["from_number"] == "+390000000002"
    assert stored["validity_period_seconds"] == 600
    with stack.rt.db.platform_session() as session:
        details = list(session.scalars(select(PlatformAuditEntry.detail).where(
            PlatformAuditEntry.target == tenant, PlatformAuditEntry.action == "channel.settings")))
    assert len(details) == 2
    assert AUTH_TOKEN not in repr(details)
    assert details[0]["values"]["auth_token"]
    assert details[1]["values"]["auth_token"] == ""


def test_settings_the_plugin_rejects_are_named(stack: EmbeddedStack, admin: AdminLogin, tenant: str) -> None:
    with admin_client(stack, admin) as client:
        response = save(client, tenant, {"account_sid": "AC0123456789", "from_number": "+390000000001"})

    assert response.status_code == 400
    assert "auth_token" in response.text  # required, and none is stored
    assert "twilio" not in config_of(stack, tenant).channel_settings


def test_settings_form_of_an_unknown_plugin_or_tenant(stack: EmbeddedStack, admin: AdminLogin, tenant: str) -> None:
    with admin_client(stack, admin) as client:
        plugin = client.get(f"/admin/tenants/{tenant}/channels/piccione")
        other = client.get("/admin/tenants/nessuno/channels/twilio")

    assert plugin.status_code == other.status_code == 404


def save_gateway(client: httpx.Client, tenant: str, form: dict[str, str], plugin: str = "paypal") -> httpx.Response:
    token = csrf_token(client.get(f"/admin/tenants/{tenant}/gateways/{plugin}").text)
    return client.post(f"/admin/tenants/{tenant}/gateways/{plugin}", data={"_csrf_token": token, **form})


@pytest.fixture
def paypal(tmp_path: Path) -> Iterator[FakePaypal]:
    fake = FakePaypal(TestCA(tmp_path / "ca"), client_id="client-di-prova", client_secret="paypal-segreto-0123456789",
                      webhook_id="WH-1", merchant_id="MERCHANT1")
    try:
        yield fake
    finally:
        fake.stop()


def test_gateway_settings_form_hides_secrets(stack: EmbeddedStack, admin: AdminLogin, tenant: str,
                                            paypal: FakePaypal) -> None:
    client_secret = paypal.client_secret
    form = {"client_id": "client-di-prova", "client_secret": client_secret, "webhook_id": "WH-1",
            "test_mode": "1", "verification": "postback", "api_base_url": paypal.base_url,
            "ca_bundle": str(paypal.ca.ca_path)}
    with admin_client(stack, admin) as client:
        first = save_gateway(client, tenant, form)
        shown = client.get(f"/admin/tenants/{tenant}/gateways/paypal")
        kept = save_gateway(client, tenant, {**form, "client_secret": "", "webhook_id": "WH-2"})
        invalid = save_gateway(client, tenant, {**form, "client_secret": "altro-segreto-9876",
                                                "verification": "indovina"})

    assert first.status_code == 200
    assert "Impostazioni salvate." in first.text
    assert "Il fornitore ha accettato le credenziali." in first.text
    assert shown.status_code == 200
    assert client_secret not in shown.text
    assert client_secret not in first.text
    assert "client-di-prova" in shown.text
    assert kept.status_code == 200
    assert invalid.status_code == 400
    assert "verification" in invalid.text
    assert "altro-segreto-9876" not in invalid.text
    config = config_of(stack, tenant)
    assert "paypal" not in config.enabled_gateways  # saving settings does not enable the gateway
    stored = config.gateway_settings["paypal"]
    assert client_secret not in repr(stored)
    assert stored["webhook_id"] == "WH-2"
    assert open_settings(stack.rt, gateway_class("paypal"), stored)["client_secret"] == client_secret
    with stack.rt.db.tenant_session(tenant) as session:
        details = list(session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "gateway.settings")))
    assert len(details) == 2
    assert client_secret not in repr(details)


def test_gateway_credentials_checked_on_save(stack: EmbeddedStack, admin: AdminLogin, tenant: str,
                                            tmp_path: Path) -> None:
    ca = TestCA(tmp_path / "ca")
    axerve = FakeAxerve(ca, shop_login="GESPAY12345", api_key="apikey-axerve-prova")
    form = {"shop_login": "GESPAY12345", "api_key": "apikey-axerve-prova", "api_base_url": axerve.api_base_url,
            "ca_bundle": str(ca.ca_path), "timeout_seconds": "5"}
    unreachable = f"https://127.0.0.1:{free_port_for_tests()}/api/v1"
    try:
        with admin_client(stack, admin) as client:
            right = save_gateway(client, tenant, form, "axerve")
            wrong = save_gateway(client, tenant, form | {"api_key": "apikey-sbagliata", "timeout_seconds": "7"},
                                 "axerve")
            after_wrong = open_settings(stack.rt, gateway_class("axerve"),
                                        config_of(stack, tenant).gateway_settings["axerve"])
            offline = save_gateway(client, tenant, form | {"api_key": "", "api_base_url": unreachable}, "axerve")
    finally:
        axerve.stop()

    assert right.status_code == 200
    assert "Il fornitore ha accettato le credenziali." in right.text
    assert wrong.status_code == 400
    error = html.unescape(wrong.text.split('id="e-api_key"', 1)[1].split("</p>", 1)[0])
    assert "Il fornitore ha rifiutato le credenziali: axerve: HTTP 403 code 1166 (Invalid ApiKey)" in error
    assert "Impostazioni salvate." not in wrong.text
    assert after_wrong["api_key"] == "apikey-axerve-prova"
    assert after_wrong["timeout_seconds"] == 5
    assert offline.status_code == 200
    assert "Impostazioni salvate." in offline.text
    assert ("Non è stato possibile raggiungere il fornitore per verificare le credenziali "
            "(axerve: POST /check/email/ failed: ConnectError)") in html.unescape(offline.text)
    stored = open_settings(stack.rt, gateway_class("axerve"), config_of(stack, tenant).gateway_settings["axerve"])
    assert stored["api_base_url"] == unreachable
    assert stored["api_key"] == "apikey-axerve-prova"
    for page in (right, wrong, offline):
        assert "apikey-axerve-prova" not in page.text
        assert "apikey-sbagliata" not in page.text
    assert axerve.orders == {}
    with stack.rt.db.tenant_session(tenant) as session:
        saves = list(session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "gateway.settings")))
    assert len(saves) == 2  # the rejected save is not audited


def test_sandbox_gateway_saves_without_check(stack: EmbeddedStack, admin: AdminLogin, tenant: str) -> None:
    with admin_client(stack, admin) as client:
        saved = save_gateway(client, tenant, {"test_mode": "1"}, "sandbox")
        test_mode = config_of(stack, tenant).gateway_settings["sandbox"]["test_mode"]
        off = save_gateway(client, tenant, {}, "sandbox")

    assert saved.status_code == off.status_code == 303
    assert saved.headers["location"] == f"/admin/tenants/{tenant}/gateways/sandbox?saved=1"
    assert test_mode is True
    assert config_of(stack, tenant).gateway_settings["sandbox"]["test_mode"] is False


def test_settings_form_labels_italian(stack: EmbeddedStack, admin: AdminLogin, tenant: str) -> None:
    with admin_client(stack, admin) as client:
        smtp = client.get(f"/admin/tenants/{tenant}/channels/smtp")
        sandbox = client.get(f"/admin/tenants/{tenant}/gateways/sandbox")

    assert smtp.status_code == 200
    assert ">Host del server" in smtp.text
    assert ">STARTTLS sulla stessa porta</option>" in smtp.text
    assert 'value="starttls"' in smtp.text
    assert "Modalità di prova (nessun pagamento reale)</label>" in sandbox.text
