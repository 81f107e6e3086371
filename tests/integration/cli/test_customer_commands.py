"""``bolletta customer export|erase``: the archive file, the erasure, and who may run them."""

from __future__ import annotations

import zipfile
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from bolletta.cli.main import main
from bolletta.platform import runtime
from bolletta.platform.db.models.tenant import AuditEntry, Bill, Contact
from bolletta.platform.settings import load_settings
from bolletta.tenants import accounts
from tests.integration.privacy.people import add_customer

SECRET = "s" * 48


def _env(tmp_path: Path) -> dict[str, str]:
    return {"BOLLETTA_DATA_DIR": str(tmp_path), "BOLLETTA_SECRET_KEY": SECRET, "BOLLETTA_DATABASE_URL": "",
            "BOLLETTA_BROKER_URL": ""}


def _setup(tmp_path: Path) -> tuple[CliRunner, dict[str, str], runtime.Runtime]:
    env = _env(tmp_path)
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"], env=env, catch_exceptions=False).exit_code == 0
    assert runner.invoke(main, ["tenant", "create", "acme", "ACME"], env=env, catch_exceptions=False).exit_code == 0
    assert runner.invoke(main, ["tenant", "create", "beta", "BETA"], env=env, catch_exceptions=False).exit_code == 0
    rt = runtime.configure(load_settings(environ=env))
    accounts.create_user(rt.db, "acme.admin", "a-long-password-1", "tenant_admin", tenant_slug="acme")
    accounts.create_user(rt.db, "acme.operatore", "a-long-password-2", "tenant_operator", tenant_slug="acme")
    accounts.create_user(rt.db, "beta.admin", "a-long-password-3", "tenant_admin", tenant_slug="beta")
    return runner, env, rt


def test_export_and_erase(tmp_path: Path) -> None:
    runner, env, rt = _setup(tmp_path)
    add_customer(rt, "acme", "CMD001", "RSSMRA80A01H501U")
    add_customer(rt, "acme", "CMD002", "VRDLGU75B02F205X")
    output = tmp_path / "export.zip"

    exported = runner.invoke(main, ["customer", "export", "--tenant", "acme", "--customer-code", "CMD001",
                                    "--by", "acme.admin", "--output", str(output)], env=env, catch_exceptions=False)
    erased = runner.invoke(main, ["customer", "erase", "--tenant", "acme", "--fiscal-code", "RSSMRA80A01H501U",
                                  "--by", "acme.admin", "--yes"], env=env, catch_exceptions=False)

    assert exported.exit_code == 0, exported.output
    assert "bills 1" in exported.output
    assert "payments.csv" in zipfile.ZipFile(output).namelist()
    assert not (tmp_path / "export.zip.part").exists()
    assert erased.exit_code == 0, erased.output
    assert "contacts 1" in erased.output
    with rt.db.tenant_session("acme") as session:
        assert session.scalars(select(Contact.customer_code)).all() == ["CMD002"]
        names = {code: name for code, name in session.execute(select(Bill.customer_code, Bill.customer_name))}
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert names == {"CMD001": "", "CMD002": "Cliente CMD002"}
    assert actions == ["customer.export", "customer.erase"]


def test_erase_asks_and_checks_user(tmp_path: Path) -> None:
    runner, env, rt = _setup(tmp_path)
    add_customer(rt, "acme", "CMD003", "RSSMRA80A01H501U")
    base = ["customer", "erase", "--tenant", "acme", "--customer-code", "CMD003"]

    declined = runner.invoke(main, [*base, "--by", "acme.admin"], env=env, input="n\n")
    operator = runner.invoke(main, [*base, "--by", "acme.operatore", "--yes"], env=env)
    foreign = runner.invoke(main, [*base, "--by", "beta.admin", "--yes"], env=env)
    unknown = runner.invoke(main, [*base, "--by", "nobody", "--yes"], env=env)

    assert declined.exit_code == 1
    assert "This cannot be undone" in declined.output
    assert operator.exit_code == 1
    assert "is not an admin of tenant acme" in operator.output
    assert foreign.exit_code == 1
    assert "is not an admin of tenant acme" in foreign.output
    assert unknown.exit_code == 1
    assert "No active user 'nobody'" in unknown.output
    with rt.db.tenant_session("acme") as session:
        assert session.scalars(select(Contact.customer_code)).all() == ["CMD003"]


def test_export_keeps_existing_file_and_leaves_no_part(tmp_path: Path) -> None:
    runner, env, rt = _setup(tmp_path)
    add_customer(rt, "acme", "CMD004", "RSSMRA80A01H501U")
    existing = tmp_path / "earlier.zip"
    existing.write_bytes(b"earlier export")
    missing = tmp_path / "missing.zip"
    base = ["customer", "export", "--tenant", "acme", "--by", "acme.admin"]

    kept = runner.invoke(main, [*base, "--customer-code", "CMD004", "--output", str(existing)], env=env)
    unknown = runner.invoke(main, [*base, "--customer-code", "NESSUNO", "--output", str(missing)], env=env)

    assert kept.exit_code == 1
    assert "already exists" in kept.output
    assert existing.read_bytes() == b"earlier export"
    assert unknown.exit_code != 0
    assert not missing.exists()
    assert not (tmp_path / "missing.zip.part").exists()
