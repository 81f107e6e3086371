"""The onboarding wizard's drafts, step checks and all-or-nothing activation on the embedded stack."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import msgspec
import paramiko
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import func, select

from bolletta.channels.twilio import TwilioChannel
from bolletta.platform.db.models.platform import PlatformAuditEntry, SftpAccount, Tenant, TenantDraft, User
from bolletta.platform.demo.identity import vat_number
from bolletta.platform.dispatch import shared_accounts
from bolletta.platform.i18n.message import render
from bolletta.platform.sftp.layout import InboxLayout
from bolletta.platform.stack import EmbeddedStack
from bolletta.platform.storage import storage_from_settings, tenant_key
from bolletta.tenants import registry
from bolletta.tenants.accounts import authenticate_sftp, authenticate_sftp_key, authenticate_user
from bolletta.tenants.onboarding import activation, drafts, trial
from bolletta.tenants.onboarding.activation import ActivationError, activate
from tests.integration.stack_support import (
    create_test_tenant,
    csrf_token,
    mails_to,
    new_slug,
    running_stack,
    sign_in,
    web_client,
)

ACTOR = "user:platform-admin"
SFTP_PASSWORD = "sftp-password-lunga"
VALID_VAT = vat_number("0718293", "015")
INVITATION_LINK = re.compile(r"https?://\S+/office/password-reset/(\S+)")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    with running_stack(tmp_path_factory.mktemp("onboarding")) as started:
        yield started


def _answers(slug: str) -> dict[str, dict[str, Any]]:
    """Valid answers for every step of a utility with the id ``slug``."""
    public = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH)
    keys = [f"{public.decode()} billing"]
    return {
        "company": {"legal_name": "Acqua Chiara S.p.A.", "vat_number": f"IT{VALID_VAT}", "slug": slug,
                    "services": ["water"], "notification_emails": ["bollette@acquachiara.example"]},
        "look": {"branding": {"display_name": "Acqua Chiara", "primary_color": "#0b4f8a"},
                 "link_domain": "bolletta.acquachiara.example", "section_order": ["sommario", "importi"]},
        "messages": {"texts": {"en": {"sms": "{{ utility }}: your bill {{ document_number }}: {{ link }}"}}},
        "senders": {"sms_sender": "AcquaChiara", "email_sender": "bolletta@acquachiara.example"},
        "languages": {"languages": ["it", "en", "de"]},
        "contacts": {"channel_mode": "priority", "channel_priority": ["sms", "email"], "fallback_delay_minutes": "90"},
        "payments": {"enabled_gateways": ["sandbox"]},
        "flow": {"sftp_username": f"{slug}-billing", "sftp_password": SFTP_PASSWORD, "sftp_public_keys": keys,
                 "ticket_validity_days": "20",
                 "test_recipients": [{"channel": "sms", "address": "+39 333 000 0001"},
                                     {"channel": "email", "address": "prove@acquachiara.example"}]},
        "staff": {"username": f"{slug}-admin", "email": f"admin@{slug}.example", "full_name": "Anna Prova"},
    }


def _complete_draft(stack: EmbeddedStack, slug: str) -> int:
    draft_id = drafts.start_draft(stack.rt.db, ACTOR)
    for step, answers in _answers(slug).items():
        result = drafts.save_step(stack.rt.db, draft_id, step, answers, ACTOR)
        assert result.problems == {}, f"step {step}: {result.problems}"
    return draft_id


def test_activation_provisions_everything(stack: EmbeddedStack) -> None:
    slug = new_slug("ac")
    draft_id = _complete_draft(stack, slug)

    assert activate(stack.rt, draft_id, ACTOR) == slug

    config = registry.tenant_config(registry.get_tenant(stack.rt.db, slug))
    assert config.ticket_validity_days == 20
    assert config.channel_mode == "priority"
    assert config.fallback_delay_minutes == 90
    assert config.portal.languages == ["it", "en", "de"]
    assert config.link_domain == "bolletta.acquachiara.example"
    # The SMS number typed with spaces is stored in E.164 form.
    assert [recipient.address for recipient in config.test_recipients] == ["+393330000001", "prove@acquachiara.example"]
    assert authenticate_sftp(stack.rt.db, f"{slug}-billing", SFTP_PASSWORD) == slug
    assert InboxLayout(stack.rt.settings.data_path / "sftp").area(slug).is_dir()
    assert storage_from_settings(stack.rt.settings).exists(tenant_key(slug, activation.MARKER_KEY))
    with stack.rt.db.platform_session() as session:
        admin = session.scalar(select(User).where(User.username == f"{slug}-admin"))
        actions = list(session.scalars(select(PlatformAuditEntry.action).where(PlatformAuditEntry.target == slug)))
    assert admin is not None
    assert admin.role == "tenant_admin"
    assert actions == ["tenant.activated"]
    assert drafts.load_draft(stack.rt.db, draft_id).activated_slug == slug


def test_shared_account_chosen_in_the_senders_step(stack: EmbeddedStack) -> None:
    account = new_slug("condiviso")
    shared_accounts.save_account(stack.rt, account, "outbox", {}, ())
    slug = new_slug("sh")
    draft_id = drafts.start_draft(stack.rt.db, ACTOR)
    senders = _answers(slug)["senders"]
    wrong = drafts.save_step(stack.rt.db, draft_id, "senders",
                             senders | {"channel_plugins": {"sms": "skebby"}, "channel_accounts": {"sms": account}},
                             ACTOR)
    assert "outbox" in str(wrong.problems["channel_accounts.sms"])
    for step, answers in _answers(slug).items():
        if step == "senders":
            answers = answers | {"channel_accounts": {"sms": account, "email": ""}}
        assert drafts.save_step(stack.rt.db, draft_id, step, answers, ACTOR).problems == {}

    activate(stack.rt, draft_id, ACTOR)

    assert registry.tenant_config(registry.get_tenant(stack.rt.db, slug)).channel_accounts == {"sms": account}
    assert shared_accounts.tenants_using(stack.rt, account) == [slug]


def test_test_send_uses_the_shared_account(stack: EmbeddedStack) -> None:
    account = new_slug("twilio-condiviso")
    shared_accounts.save_account(stack.rt, account, "twilio", {
        "account_sid": "AC0000000077", "auth_token": "segreto-della-piattaforma", "from_number": "+390000000077"},
        TwilioChannel.secret_fields)
    draft_id = drafts.start_draft(stack.rt.db, ACTOR)
    senders = _answers(new_slug("ts"))["senders"] | {"channel_plugins": {"sms": "twilio"},
                                                      "channel_accounts": {"sms": account}}
    assert drafts.save_step(stack.rt.db, draft_id, "senders", senders, ACTOR).problems == {}

    channel = trial.draft_channel(stack.rt, drafts.load_draft(stack.rt.db, draft_id), "sms")

    assert isinstance(channel, TwilioChannel)
    assert channel.settings.account_sid == "AC0000000077"
    assert channel.settings.auth_token == "segreto-della-piattaforma"


def test_public_key_logs_in_to_sftp(stack: EmbeddedStack) -> None:
    slug = new_slug("ak")
    draft_id = drafts.start_draft(stack.rt.db, ACTOR)
    key = paramiko.RSAKey.generate(3072)
    answers = _answers(slug)
    answers["flow"] |= {"sftp_password": "", "sftp_public_keys": [f"ssh-rsa {key.get_base64()} billing"]}
    for step, step_answers in answers.items():
        assert drafts.save_step(stack.rt.db, draft_id, step, step_answers, ACTOR).complete, step

    activate(stack.rt, draft_id, ACTOR)

    assert authenticate_sftp_key(stack.rt.db, f"{slug}-billing", key) == slug
    assert authenticate_sftp(stack.rt.db, f"{slug}-billing", "") is None


def test_invitation_sets_password(stack: EmbeddedStack) -> None:
    slug = new_slug("ai")
    activate(stack.rt, _complete_draft(stack, slug), ACTOR)
    [mail] = mails_to(stack, f"admin@{slug}.example")
    body = mail.message.get_body(preferencelist=("plain",))
    assert body is not None
    match = INVITATION_LINK.search(body.get_content())
    assert match is not None, "the invitation has no link"
    new_password = "nuova-password-admin"

    with web_client(stack) as client:
        page = client.get(f"/office/password-reset/{match.group(1)}")
        form = {"password": new_password, "password_again": new_password, "_csrf_token": csrf_token(page.text)}
        assert client.post(f"/office/password-reset/{match.group(1)}", data=form).status_code == 200
        assert sign_in(client, f"{slug}-admin", new_password).status_code == 303
    assert "Acqua Chiara" in str(mail.message["Subject"])


@pytest.mark.parametrize(
    ("step", "changes", "field"),
    [
        ("company", {"vat_number": "12345670159"}, "vat_number"),
        ("company", {"slug": "Bad Slug"}, "slug"),
        ("company", {"notification_emails": ["not-an-address"]}, "notification_emails.1"),
        ("company", {"services": ["heat"]}, "services"),
        ("look", {"branding": {"primary_color": "#ffff00"}}, "branding.primary_color"),
        ("look", {"branding": {"text_on_primary": "#3366aa"}}, "branding.text_on_primary"),
        ("look", {"branding": {"accent_color": "giallo"}}, "branding.accent_color"),
        ("look", {"link_domain": "http://bolletta"}, "link_domain"),
        ("look", {"branding": {"website": "javascript:alert(1)"}}, "branding.website"),
        ("look", {"branding": {"support_phone": "abc"}}, "branding.support_phone"),
        ("messages", {"texts": {"it": {"sms": "Paga qui"}}}, "texts.it.sms"),
        ("messages", {"texts": {"it": {"sms": "Gentile {{ customer_name }}: {{ link }}"}}}, "texts.it.sms"),
        ("messages", {"texts": {"en": {"email_subject": "Bill {{ document_number"}}}, "texts.en.email_subject"),
        ("messages", {"texts": {"xx": {"sms": "{{ link }}"}}}, "texts"),
        ("senders", {"sms_sender": "1Acqua"}, "sms_sender"),
        ("senders", {"sms_sender": "AcquaChiaraSpA"}, "sms_sender"),
        ("senders", {"channel_plugins": {"sms": "smtp"}}, "channel_plugins.sms"),
        ("senders", {"channel_accounts": {"sms": "mai-creato"}}, "channel_accounts.sms"),
        ("senders", {"channel_accounts": {"fax": "mai-creato"}}, "channel_accounts"),
        ("languages", {"languages": ["en"]}, "languages"),
        ("languages", {"languages": ["it", "xx"]}, "languages"),
        ("contacts", {"channel_priority": ["sms", "sms"]}, "channel_priority"),
        ("contacts", {"contact_sources": ["fax"]}, "contact_sources"),
        ("contacts", {"contact_sources": []}, "contact_sources"),
        ("contacts", {"fallback_delay_minutes": "-5"}, "fallback_delay_minutes"),
        ("payments", {"enabled_gateways": ["bancomat"]}, "enabled_gateways"),
        ("flow", {"test_recipients": [{"channel": "sms", "address": "+39 06 1234 5678"}]}, "test_recipients.1"),
        ("flow", {"ticket_validity_days": "0"}, "ticket_validity_days"),
        ("flow", {"ticket_validity_days": "quindici"}, "ticket_validity_days"),
        ("flow", {"sftp_password": "corta"}, "sftp_password"),
        ("flow", {"sftp_public_keys": ["ssh-ed25519 notbase64"]}, "sftp_public_keys.1"),
        ("flow", {"quiet_hours": {"start": "25:00"}}, "quiet_hours.start"),
        ("flow", {"quiet_hours": {"timezone": "Europe/Roma"}}, "quiet_hours.timezone"),
        ("staff", {"email": "admin@"}, "email"),
    ],
)
def test_bad_answer_named_and_kept(stack: EmbeddedStack, step: str, changes: dict[str, Any], field: str) -> None:
    slug = new_slug("bd")
    draft_id = drafts.start_draft(stack.rt.db, ACTOR)
    answers = _answers(slug)[step] | changes

    result = drafts.save_step(stack.rt.db, draft_id, step, answers, ACTOR)

    assert field in result.problems
    draft = drafts.load_draft(stack.rt.db, draft_id)
    assert step not in draft.completed
    if field != "ticket_validity_days" or changes[field] != "quindici":
        assert draft.answers[step] != type(draft.answers[step])(), "the answers were not kept"


def test_contrast_named_at_its_colour(stack: EmbeddedStack) -> None:
    slug = new_slug("cc")
    draft_id = drafts.start_draft(stack.rt.db, ACTOR)
    look = _answers(slug)["look"]
    answers = look | {"branding": look["branding"] | {"text_on_primary": "#3366aa"}}

    result = drafts.save_step(stack.rt.db, draft_id, "look", answers, ACTOR)

    assert sorted(result.problems) == ["branding.text_on_primary"]
    assert result.problems["branding.text_on_primary"].params["first"] == "text_on_primary"


def test_taken_slug_and_usernames_rejected(stack: EmbeddedStack) -> None:
    taken = create_test_tenant(stack, new_slug("tk"))
    draft_id = drafts.start_draft(stack.rt.db, ACTOR)
    answers = _answers(taken)

    company = drafts.save_step(stack.rt.db, draft_id, "company", answers["company"], ACTOR)

    assert "slug" in company.problems
    other = drafts.start_draft(stack.rt.db, ACTOR)
    fresh = new_slug("fr")
    assert drafts.save_step(stack.rt.db, other, "company", _answers(fresh)["company"], ACTOR).complete
    third = drafts.start_draft(stack.rt.db, ACTOR)
    assert "slug" in drafts.save_step(stack.rt.db, third, "company", _answers(fresh)["company"], ACTOR).problems


def test_draft_never_stores_sftp_password(stack: EmbeddedStack) -> None:
    slug = new_slug("pw")
    draft_id = drafts.start_draft(stack.rt.db, ACTOR)
    flow = _answers(slug)["flow"]
    assert drafts.save_step(stack.rt.db, draft_id, "flow", flow, ACTOR).complete

    again = drafts.save_step(stack.rt.db, draft_id, "flow", flow | {"sftp_password": ""}, ACTOR)

    assert again.complete
    with stack.rt.db.platform_session() as session:
        stored = session.get(TenantDraft, draft_id)
        assert stored is not None
        saved = stored.answers["flow"]
        audit = [entry.detail for entry in session.scalars(select(PlatformAuditEntry).where(
            PlatformAuditEntry.target == f"draft:{draft_id}"))]
    assert SFTP_PASSWORD not in str(saved)
    assert SFTP_PASSWORD not in str(audit)
    assert saved["sftp_password_hash"].startswith("$argon2")


def test_incomplete_draft_not_activated(stack: EmbeddedStack) -> None:
    slug = new_slug("ic")
    draft_id = drafts.start_draft(stack.rt.db, ACTOR)
    answers = _answers(slug)
    for step in ("company", "look", "messages"):
        drafts.save_step(stack.rt.db, draft_id, step, answers[step], ACTOR)

    with pytest.raises(ActivationError) as caught:
        activate(stack.rt, draft_id, ACTOR)

    assert caught.value.step == "senders"
    with stack.rt.db.platform_session() as session:
        assert session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is None


def test_slug_taken_after_saving_rechecked(stack: EmbeddedStack) -> None:
    slug = new_slug("rc")
    draft_id = _complete_draft(stack, slug)
    registry.create_tenant(stack.rt.db, slug, "Arrivata prima S.r.l.")

    with pytest.raises(ActivationError) as caught:
        activate(stack.rt, draft_id, ACTOR)

    assert caught.value.step == "company"
    assert caught.value.field == "slug"


def _traces(stack: EmbeddedStack, slug: str) -> list[str]:
    """Everything of tenant ``slug`` that exists anywhere: database, files, storage, accounts."""
    found = []
    settings = stack.rt.settings
    with stack.rt.db.platform_session() as session:
        if session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
            found.append("tenant row")
        if session.scalar(select(SftpAccount.id).where(SftpAccount.username == f"{slug}-billing")) is not None:
            found.append("sftp account")
        if session.scalar(select(User.id).where(User.username == f"{slug}-admin")) is not None:
            found.append("admin user")
    if (settings.data_path / "tenants" / f"{slug}.db").exists():
        found.append("tenant database file")
    layout = InboxLayout(settings.data_path / "sftp")
    if layout.area(slug).exists() or layout.partial(slug).exists():
        found.append("sftp folders")
    if storage_from_settings(settings).exists(tenant_key(slug, activation.MARKER_KEY)):
        found.append("storage marker")
    if any(Path(settings.data_path).glob(f"**/{slug}/*")):
        found.append("files under a folder named after the tenant")
    return found


@pytest.mark.parametrize("failing", [name for name, _ in activation.PROVISIONING])
def test_failure_at_each_step_leaves_nothing(
    stack: EmbeddedStack, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    slug = new_slug("fx")
    draft_id = _complete_draft(stack, slug)

    def broken(step: Any) -> Any:
        def run(work: activation.Provisioning) -> None:
            step(work)
            raise OSError(f"injected failure after {failing}")
        return run

    patched = [(name, broken(step) if name == failing else step) for name, step in activation.PROVISIONING]
    monkeypatch.setattr(activation, "PROVISIONING", patched)

    with pytest.raises(ActivationError) as caught:
        activate(stack.rt, draft_id, ACTOR)

    assert caught.value.step == failing
    assert _traces(stack, slug) == []
    assert authenticate_user(stack.rt.db, f"{slug}-admin", "x" * 20) is None
    assert drafts.load_draft(stack.rt.db, draft_id).activated_slug is None
    monkeypatch.undo()
    assert activate(stack.rt, draft_id, ACTOR) == slug
    assert _traces(stack, slug) != []


def test_admin_needs_the_invitation(stack: EmbeddedStack) -> None:
    slug = new_slug("np")
    activate(stack.rt, _complete_draft(stack, slug), ACTOR)

    with web_client(stack) as client:
        response = sign_in(client, f"{slug}-admin", "password-indovinata")

    assert response.status_code == 401


def test_double_activation_makes_one_tenant(stack: EmbeddedStack) -> None:
    slug = new_slug("dc")
    draft_id = _complete_draft(stack, slug)

    def click(_: int) -> str:
        try:
            return activate(stack.rt, draft_id, ACTOR)
        except ActivationError as exc:
            return f"refused:{exc.step}"

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(click, range(2)))

    assert outcomes == sorted([slug, "refused:activation"])
    with stack.rt.db.platform_session() as session:
        assert session.scalar(select(func.count()).select_from(Tenant).where(Tenant.slug == slug)) == 1


def test_database_file_failure_named_not_quoted(stack: EmbeddedStack, caplog: pytest.LogCaptureFixture) -> None:
    slug = new_slug("db")
    draft_id = _complete_draft(stack, slug)
    # A folder where the tenant's database file goes: SQLite cannot create the file.
    blocker = stack.rt.settings.data_path / "tenants" / f"{slug}.db"
    blocker.mkdir(parents=True)

    with caplog.at_level(logging.ERROR), pytest.raises(ActivationError) as caught:
        activate(stack.rt, draft_id, ACTOR)

    assert caught.value.step == "tenant"
    shown_it, shown_en = render(caught.value.reason, "it"), render(caught.value.reason, "en")
    folder = str(stack.rt.settings.data_path / "tenants")
    assert shown_it.startswith(f"Non è stato possibile creare il file di database dell'azienda in {folder}.")
    assert shown_en.startswith(f"The utility's database file could not be created in {folder}.")
    for shown in (shown_it, shown_en):
        assert "unable to open" not in shown
        assert "OperationalError" not in shown
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"provisioning tenant {slug} failed: OperationalError: (sqlite3.OperationalError) unable to open" \
        not in logged  # the statement error is reduced to the driver's message
    assert f"provisioning tenant {slug} failed: OperationalError: unable to open database file" in logged
    assert f"activating draft {draft_id} as {slug} at tenant failed: ProvisioningFailed" in logged
    assert "caused by OperationalError: unable to open database file" in logged
    assert blocker.is_dir()  # the admin's folder is not removed
    assert _traces(stack, slug) == ["tenant database file"]
    blocker.rmdir()
    assert activate(stack.rt, draft_id, ACTOR) == slug


def test_sftp_folder_failure_named_not_quoted(stack: EmbeddedStack, caplog: pytest.LogCaptureFixture) -> None:
    slug = new_slug("sf")
    draft_id = _complete_draft(stack, slug)
    layout = InboxLayout(stack.rt.settings.data_path / "sftp")
    # A file where the tenant's SFTP folder goes.
    layout.root.mkdir(parents=True, exist_ok=True)
    layout.area(slug).write_text("not a folder")

    with caplog.at_level(logging.ERROR), pytest.raises(ActivationError) as caught:
        activate(stack.rt, draft_id, ACTOR)

    assert caught.value.step == "sftp"
    assert render(caught.value.reason, "it") == (
        "Non è stato possibile creare le cartelle o l'accesso SFTP dell'azienda. Controlla che il servizio possa "
        f"scrivere in {layout.root}, poi riprova. Il log del server riporta l'errore.")
    assert "FileExistsError" not in render(caught.value.reason, "en")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"activating draft {draft_id} as {slug} at sftp failed: FileExistsError" in logged
    layout.area(slug).unlink()
    assert _traces(stack, slug) == []


def test_invitation_failure_hides_address(stack: EmbeddedStack, monkeypatch: pytest.MonkeyPatch,
                                          caplog: pytest.LogCaptureFixture) -> None:
    slug = new_slug("mx")
    draft_id = _complete_draft(stack, slug)
    # Nothing listens on port 9 of this host, so the mail server refuses the connection.
    monkeypatch.setattr(stack.rt, "settings",
                        msgspec.structs.replace(stack.rt.settings, smtp_url="smtp://posta:segreto@127.0.0.1:9"))

    with caplog.at_level(logging.ERROR), pytest.raises(ActivationError) as caught:
        activate(stack.rt, draft_id, ACTOR)

    assert caught.value.step == "invitation"
    assert render(caught.value.reason, "en").startswith("The invitation e-mail could not be sent. Check "
                                                        "BOLLETTA_SMTP_URL")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"activating draft {draft_id} as {slug} at invitation failed: ActivationError" in logged
    assert "caused by ConnectionRefusedError" in logged
    assert "segreto" not in logged
    assert f"admin@{slug}.example" not in logged
    assert _traces(stack, slug) == []
