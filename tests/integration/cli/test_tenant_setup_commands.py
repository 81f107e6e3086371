"""Setting up a tenant from the command line: an SFTP account, and settings changed from a JSON file."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select, text

from bolletta.cli.main import main
from bolletta.platform import runtime
from bolletta.platform.db.models.platform import PlatformAuditEntry
from bolletta.platform.settings import load_settings
from bolletta.platform.sftp import credentials
from bolletta.tenants.accounts import authenticate_sftp
from bolletta.tenants.registry import get_tenant, tenant_config


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
