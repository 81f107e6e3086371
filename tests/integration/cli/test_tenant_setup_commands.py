"""Setting up a tenant from the command line: an SFTP account, and settings changed from a JSON file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select, text

from bolletta.cli.main import main
from bolletta.platform import runtime
from bolletta.platform.db.models.platform import PlatformAuditEntry, Tenant
from bolletta.platform.settings import load_settings
from bolletta.platform.sftp import credentials
from bolletta.tenants.accounts import authenticate_sftp
from bolletta.tenants.registry import get_tenant, tenant_config


@pytest.fixture(autouse=True)
def _restore_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    """Restore the current runtime after each test: the commands configure their own, and the
    embedded stack of the web tests serves from the current one."""
    monkeypatch.setattr(runtime, "_current", runtime._current)


def _invoke(env: dict[str, str], *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, input=stdin)


def _ready(tmp_path: Path) -> dict[str, str]:
    env = {"BOLLETTA_DATA_DIR": str(tmp_path), "BOLLETTA_SECRET_KEY": "k" * 48, "BOLLETTA_DATABASE_URL": ""}
    for args in (("db", "upgrade"), ("tenant", "create", "acme", "ACME Energia S.p.A.")):
        result = _invoke(env, *args)
        assert result.exit_code == 0, result.output
    return env


def test_data_files_not_readable_by_others(tmp_path: Path) -> None:
    _ready(tmp_path)

    assert (tmp_path / "platform.db").stat().st_mode & 0o007 == 0
    assert (tmp_path / "tenants" / "acme.db").stat().st_mode & 0o007 == 0


def test_sftp_account_with_password_and_key(tmp_path: Path) -> None:
    env = _ready(tmp_path)
    public_key = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH)
    key_file = tmp_path / "acme.pub"
    key_file.write_bytes(public_key + b" it@acme")

    created = _invoke(env, "sftp", "account", "create", "acme", "acme-flussi", "--password", "password-sftp-lunga")
    keyed = _invoke(env, "sftp", "key", "add", "acme-flussi", str(key_file))

    assert created.exit_code == 0, created.output
    assert created.output.strip() == "SFTP account acme-flussi created for tenant acme."
    assert keyed.exit_code == 0, keyed.output
    rt = runtime.configure(load_settings(environ=env))
    assert authenticate_sftp(rt.db, "acme-flussi", "password-sftp-lunga") == "acme"
    assert authenticate_sftp(rt.db, "acme-flussi", "sbagliata") is None


def test_settings_changed_from_file(tmp_path: Path) -> None:
    env = _ready(tmp_path)
    changes = {"sftp_poll": {"host": "127.0.0.1", "username": "bolletta", "password": "segreta-lunga",
                             "host_key_fingerprint": "SHA256:abc", "interval_minutes": 30}}

    changed = _invoke(env, "tenant", "settings", "set", "acme", "-", "--by", "user:operatore",
                      stdin=json.dumps(changes))
    shown = _invoke(env, "tenant", "settings", "show", "acme")

    assert changed.exit_code == 0, changed.output
    assert "Settings of acme updated: sftp_poll." in changed.output
    settings = json.loads(shown.output)
    assert settings["sftp_poll"]["interval_minutes"] == 30
    assert settings["sftp_poll"]["password"] == "(set)"
    assert "segreta-lunga" not in shown.output
    rt = runtime.configure(load_settings(environ=env))
    with rt.db.platform_session() as session:
        query = select(PlatformAuditEntry).where(PlatformAuditEntry.action == "tenant.settings_changed")
        entry = session.scalars(query).one()
    assert entry.actor == "user:operatore"
    assert entry.detail["keys"] == ["sftp_poll"]
    assert entry.detail["before"] == {"sftp_poll": None}
    assert entry.detail["after"]["sftp_poll"]["password"] == "(redacted)"
    assert "segreta-lunga" not in json.dumps(entry.detail)


def test_settings_set_encrypts_sftp_login(tmp_path: Path) -> None:
    env = _ready(tmp_path)
    changes = {"sftp_poll": {"host": "127.0.0.1", "username": "bolletta", "password": "segreta-lunga",
                             "host_key_fingerprint": "SHA256:abc", "interval_minutes": 30}}
    _invoke(env, "tenant", "settings", "set", "acme", "-", "--by", "user:operatore", stdin=json.dumps(changes))
    rt = runtime.configure(load_settings(environ=env))
    first = _stored_settings(rt, "acme")

    printed = json.loads(_invoke(env, "tenant", "settings", "show", "acme").output)
    printed["sftp_poll"]["interval_minutes"] = 5
    again = _invoke(env, "tenant", "settings", "set", "acme", "-", "--by", "user:operatore",
                    stdin=json.dumps({"sftp_poll": printed["sftp_poll"]}))
    second = _stored_settings(rt, "acme")
    poll = tenant_config(get_tenant(rt.db, "acme")).sftp_poll

    assert "segreta-lunga" not in first
    assert credentials.SEALED_PREFIX in first
    assert again.exit_code == 0, again.output
    assert "segreta-lunga" not in second
    assert poll is not None
    assert poll.interval_minutes == 5
    assert credentials.open_login(rt, poll).password == "segreta-lunga"


def _stored_settings(rt: runtime.Runtime, slug: str) -> str:
    """Return the tenant's settings column as the database stores it, read without the ORM."""
    with rt.db.platform_session() as session:
        raw = session.execute(text("SELECT settings FROM tenants WHERE slug = :slug"), {"slug": slug}).scalar_one()
    return raw if isinstance(raw, str) else str(raw)


def test_invalid_settings_named_and_nothing_changed(tmp_path: Path) -> None:
    env = _ready(tmp_path)
    before = _invoke(env, "tenant", "settings", "show", "acme").output

    result = _invoke(env, "tenant", "settings", "set", "acme", "-", "--by", "user:operatore",
                     stdin=json.dumps({"sftp_poll": {"host": "h", "username": "u", "host_key_fingerprint": "x",
                                                     "interval_minutes": -5}}))

    assert result.exit_code == 1
    assert "Invalid tenant setting: Expected `int` >= 0 - at `$.sftp_poll.interval_minutes`" in result.output
    assert _invoke(env, "tenant", "settings", "show", "acme").output == before


def _set(env: dict[str, str], changes: dict[str, object]) -> Result:
    return _invoke(env, "tenant", "settings", "set", "acme", "-", "--by", "user:operatore", stdin=json.dumps(changes))


@pytest.mark.parametrize(("changes", "expected"), [
    ({"ticket_validity_days": -5}, "Expected `int` >= 1 - at `$.ticket_validity_days`"),
    ({"ticket_validity_days": 366}, "Expected `int` <= 365 - at `$.ticket_validity_days`"),
    ({"test_batch_size": 0}, "Expected `int` >= 1 - at `$.test_batch_size`"),
    ({"test_ticket_validity_hours": 0}, "Expected `int` >= 1 - at `$.test_ticket_validity_hours`"),
    ({"fallback_delay_minutes": -1}, "Expected `int` >= 0 - at `$.fallback_delay_minutes`"),
    ({"payment_reconcile_after_minutes": 1}, "Expected `int` >= 15 - at `$.payment_reconcile_after_minutes`"),
    ({"test_recipients": [{"channel": "fax", "address": "prove@acme.it"}]},
     "test_recipients[0].channel: 'fax' is not a message kind; use one of email, sms, whatsapp."),
    ({"test_recipients": [{"channel": "email", "address": "prove@acme.it"}, {"channel": "sms", "address": "hello"}]},
     "test_recipients[1].address: 'hello' is not a valid mobile number for sms; write one such as +39 333 1234567"),
    ({"test_recipients": [{"channel": "email", "address": "not-an-address"}]},
     "test_recipients[0].address: 'not-an-address' is not a valid e-mail address; write one such as bollette@acme.it."),
    ({"test_recipients": [{"channel": "whatsapp", "address": ""}]},
     "test_recipients[0].address is empty; give the address that receives the whatsapp test messages."),
    ({"test_recipients": ["sms +393331234567"]},
     "Expected `object`, got `str` - at `$.test_recipients[0]`. It must be an object with the fields channel, "
     "address."),
    ({"sftp_poll": "sftp.acme.it"},
     "at `$.sftp_poll`. It must be an object with the fields host, username, host_key_fingerprint, port, "),
    ({"whatsapp_templates": {"it": "bolletta_pronta"}},
     "at `$.whatsapp_templates[...]`. It must be an object with the fields name, language_code, category, "),
])
def test_invalid_settings_value_rejected(tmp_path: Path, changes: dict[str, object], expected: str) -> None:
    env = _ready(tmp_path)
    before = _invoke(env, "tenant", "settings", "show", "acme").output

    result = _set(env, changes)

    assert result.exit_code == 1, result.output
    assert expected in " ".join(result.output.split())
    assert "Fix the file and run the command again." in result.output
    assert _invoke(env, "tenant", "settings", "show", "acme").output == before


@pytest.mark.parametrize(("address", "shown"), [
    ("+39 347 12345", "'+39 347 ••• ••45'"),
    ("06 1234 5678", "'061 ••• ••78'"),  # a landline
    ("+39 347 1234 5678 9", "'+39 347 ••• ••89'"),
])
def test_invalid_recipient_number_masked(tmp_path: Path, address: str, shown: str) -> None:
    env = _ready(tmp_path)

    result = _set(env, {"test_recipients": [{"channel": "whatsapp", "address": address}]})

    assert result.exit_code == 1, result.output
    assert f"test_recipients[0].address: {shown} is not a valid mobile number for whatsapp" in result.output
    assert address not in result.output
    assert address.replace(" ", "") not in result.output


def test_every_bad_recipient_listed(tmp_path: Path) -> None:
    env = _ready(tmp_path)

    result = _set(env, {"test_recipients": [{"channel": "fax", "address": "prove@acme.it"},
                                            {"channel": "email", "address": "not-an-address"}]})

    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Error: Invalid tenant settings:"
    assert lines[1].startswith("  test_recipients[0].channel: 'fax' is not a message kind")
    assert lines[2].startswith("  test_recipients[1].address: 'not-an-address' is not a valid e-mail address")
    assert lines[3] == "Fix the file and run the command again."


def test_valid_test_recipients_saved(tmp_path: Path) -> None:
    env = _ready(tmp_path)
    recipients = [{"channel": "email", "address": "prove@acme.it"}, {"channel": "sms", "address": "+39 333 1234567"},
                  {"channel": "whatsapp", "address": "347-1234567"}, {"channel": "sms", "address": "0039 320 7654321"}]

    result = _set(env, {"test_recipients": recipients, "ticket_validity_days": 365, "test_batch_size": 1})

    assert result.exit_code == 0, result.output
    settings = json.loads(_invoke(env, "tenant", "settings", "show", "acme").output)
    # Mobile numbers are stored in E.164 form, whatever spacing or prefix was typed.
    assert settings["test_recipients"] == [
        {"channel": "email", "address": "prove@acme.it"}, {"channel": "sms", "address": "+393331234567"},
        {"channel": "whatsapp", "address": "+393471234567"}, {"channel": "sms", "address": "+393207654321"}]
    assert settings["ticket_validity_days"] == 365
    assert settings["test_batch_size"] == 1


def test_stored_bad_recipient_not_blocking_other_settings(tmp_path: Path) -> None:
    env = _ready(tmp_path)
    rt = runtime.configure(load_settings(environ=env))
    with rt.db.platform_session() as session:
        tenant = session.scalars(select(Tenant).where(Tenant.slug == "acme")).one()
        tenant.settings = {**tenant.settings, "test_recipients": [{"channel": "fax", "address": "1"}]}
        session.commit()

    result = _set(env, {"test_batch_size": 3})

    assert result.exit_code == 0, result.output


def test_tenant_create_failure_named_not_quoted(tmp_path: Path) -> None:
    env = {"BOLLETTA_DATA_DIR": str(tmp_path), "BOLLETTA_SECRET_KEY": "k" * 48, "BOLLETTA_DATABASE_URL": ""}
    assert _invoke(env, "db", "upgrade").exit_code == 0
    # A folder where the tenant's database file goes: SQLite cannot create the file.
    (tmp_path / "tenants" / "acme.db").mkdir(parents=True)

    result = _invoke(env, "tenant", "create", "acme", "ACME Energia S.p.A.")

    assert result.exit_code == 1
    # The runner mixes the log (stderr) into the output: the log line names the error, the message the fix.
    [error] = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert error.startswith(f"Error: The utility's database file could not be created in {tmp_path / 'tenants'}. "
                            "Check that the folder exists")
    assert "unable to open" not in error
    assert "provisioning tenant acme failed: OperationalError: unable to open database file" in result.output
    assert "Traceback" not in result.output
    rt = runtime.configure(load_settings(environ=env))
    with rt.db.platform_session() as session:
        assert session.scalar(select(Tenant.id).where(Tenant.slug == "acme")) is None


def test_settings_set_rejects_unclean_email_html(tmp_path: Path) -> None:
    env = _ready(tmp_path)
    texts = {"email_subject": "La tua bolletta", "email_text": "Apri {{ link }}",
             "email_html": '<p><a href="{{ link }}">Apri</a></p>{% if is_test %}<img src="x" onerror="alert(1)">'
                           "{% endif %}"}

    refused = _invoke(env, "tenant", "settings", "set", "acme", "-", "--by", "user:operatore",
                      stdin=json.dumps({"message_texts": {"it": texts}}))
    texts["email_html"] = '<p><a href="{{ link }}">Apri</a></p>{% if is_test %}<img src="cid:header-image@bolletta">' \
                          "{% endif %}"
    accepted = _invoke(env, "tenant", "settings", "set", "acme", "-", "--by", "user:operatore",
                       stdin=json.dumps({"message_texts": {"it": texts}}))

    assert refused.exit_code == 1
    assert ("message_texts.it.email_html: The image x would be removed before sending: e-mails show only images "
            "they carry") in refused.output
    assert "Fix the file and run the command again." in refused.output
    assert accepted.exit_code == 0, accepted.output
    rt = runtime.configure(load_settings(environ=env))
    assert tenant_config(get_tenant(rt.db, "acme")).message_texts["it"].email_html == texts["email_html"]
