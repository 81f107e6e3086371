from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from bolletta.cli.main import main
from bolletta.platform import runtime
from bolletta.platform.db.models.tenant import Job
from bolletta.platform.settings import load_settings

SECRET = "s" * 48


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"BOLLETTA_DATA_DIR": str(tmp_path), "BOLLETTA_SECRET_KEY": SECRET, "BOLLETTA_DATABASE_URL": "",
            "BOLLETTA_BROKER_URL": ""}


def _invoke(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_tenant_user_and_job_import(env: dict[str, str], tmp_path: Path, samples_dir: Path) -> None:
    archive = tmp_path / "flusso.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.write(samples_dir / "fatturapa" / "oca_l10n_italy" / "IT05979361218_ripilogoiva.xml", "bolletta.xml")

    _invoke(env, "db", "upgrade")
    assert "Tenant acme created" in _invoke(env, "tenant", "create", "acme", "ACME Energia S.p.A.")
    assert "acme" in _invoke(env, "tenant", "list")
    _invoke(env, "user", "create", "mario.rossi", "--role", "tenant_admin", "--tenant", "acme",
            "--password", "una-password-lunga")
    output = _invoke(env, "job", "import", "acme", str(archive))

    assert re.search(r"Job #1: test_sent, 1 bills accepted, 0 rejected", output), output
    assert "-> received (cli): flusso.zip uploaded through command line\n" in output
    assert "parsing -> parsed (system:parser): bills accepted: 1, rejected: 0\n" in output
    assert "parsed -> test_sent (system:test-batch): no test recipients configured: nothing sent\n" in output
    assert "msgid" not in output
    again = _invoke(env, "job", "import", "acme", str(archive))
    assert "already imported as job #1" in again


def test_errors_are_reported_without_traceback(env: dict[str, str]) -> None:
    _invoke(env, "db", "upgrade")
    result = CliRunner().invoke(main, ["tenant", "create", "Not A Slug", "X"], env=env)

    assert result.exit_code == 1
    assert "Invalid tenant slug 'Not A Slug'" in result.output
    assert "Traceback" not in result.output


def test_user_create_rejects_short_password(env: dict[str, str]) -> None:
    _invoke(env, "db", "upgrade")
    _invoke(env, "tenant", "create", "acme", "ACME")
    result = CliRunner().invoke(main, ["user", "create", "u1", "--role", "tenant_viewer", "--tenant", "acme",
                                       "--password", "short"], env=env)

    assert result.exit_code == 1
    assert "too short" in result.output


def test_demo_once_exits_zero_and_prints_links(tmp_path: Path) -> None:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("BOLLETTA_")}
    completed = subprocess.run(
        [sys.executable, "-m", "bolletta", "demo", "--once", "--data-dir", str(tmp_path / "data"), "--port", "0",
         "--sftp-port", "0", "--smtp-port", "0"],
        capture_output=True, text=True, timeout=300, env=environ, check=False,
    )

    assert completed.returncode == 0, completed.stderr[-3000:]
    assert re.search(r"http://127\.0\.0\.1:\d+/c/acme/t/[0-9A-Za-z]{22}", completed.stdout)
    assert "acme.operatore" in completed.stdout
    assert "Mail catcher" in completed.stdout
    assert (tmp_path / "data" / "secret_key").is_file()


def test_demo_refuses_to_reset_a_foreign_folder(tmp_path: Path) -> None:
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"\xff\xd8")
    result = CliRunner().invoke(main, ["demo", "--once", "--reset", "--data-dir", str(foreign), "--port", "0",
                                       "--sftp-port", "0", "--smtp-port", "0"], env={"BOLLETTA_SECRET_KEY": ""})

    assert result.exit_code == 1
    assert "not a Bolletta Smart data folder" in result.output
    assert (foreign / "holiday.jpg").exists()




def test_platform_admin_starts_dispatch(env: dict[str, str], tmp_path: Path, samples_dir: Path) -> None:
    from bolletta.platform import runtime
    from bolletta.platform.jobs.approval import Staff, approve
    from bolletta.platform.settings import load_settings

    archive = tmp_path / "flusso.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.write(samples_dir / "fatturapa" / "oca_l10n_italy" / "IT05979361218_ripilogoiva.xml", "bolletta.xml")
    _invoke(env, "db", "upgrade")
    _invoke(env, "tenant", "create", "acme", "ACME Energia S.p.A.")
    _invoke(env, "user", "create", "gestore", "--role", "platform_admin", "--password", "una-password-lunga")
    _invoke(env, "user", "create", "operatore", "--role", "tenant_operator", "--tenant", "acme",
            "--password", "una-password-lunga")
    # A test batch that reaches nobody cannot be approved; the outbox channel keeps the SMS here.
    recipients = tmp_path / "recipients.json"
    recipients.write_text('{"test_recipients": [{"channel": "sms", "address": "+393330000001"}]}')
    _invoke(env, "tenant", "settings", "set", "acme", str(recipients), "--by", "test")
    _invoke(env, "job", "import", "acme", str(archive))
    rt = runtime.configure(load_settings(environ=env))
    approve(rt, "acme", 1, Staff(user_id=None, username="operatore", role="tenant_operator", tenant="acme"))

    refused = CliRunner().invoke(main, ["job", "start", "acme", "1", "--user", "operatore"], env=env)
    started = _invoke(env, "job", "start", "acme", "1", "--user", "gestore")

    assert refused.exit_code == 1
    assert "Only the platform operator" in refused.output
    assert "Job #1: dispatched." in started


def test_import_into_unknown_tenant_writes_nothing(env: dict[str, str], tmp_path: Path) -> None:
    archive = tmp_path / "flusso.zip"
    archive.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    _invoke(env, "db", "upgrade")

    result = CliRunner().invoke(main, ["job", "import", "nope", str(archive)], env=env)

    assert result.exit_code == 1
    assert "Tenant 'nope' not found" in result.output
    assert not (tmp_path / "tenants" / "nope.db").exists()
    assert not (tmp_path / "storage" / "nope").exists()


def test_failed_import_exits_one_with_reason(env: dict[str, str], tmp_path: Path) -> None:
    archive = tmp_path / "rotto.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("fattura.xml", b"<FatturaElettronica><unclosed>")
    _invoke(env, "db", "upgrade")
    _invoke(env, "tenant", "create", "acme", "ACME")

    result = CliRunner().invoke(main, ["job", "import", "acme", str(archive)], env=env)

    assert result.exit_code == 1, result.output
    assert "Job #1: failed" in result.output
    assert "Rejected fattura.xml" in result.output


def test_import_explains_unreachable_smtp(env: dict[str, str], tmp_path: Path, samples_dir: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from bolletta.cli import queue_wait
    from tests.fakes.channel_server import free_port_for_tests

    archive = tmp_path / "flusso.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.write(samples_dir / "fatturapa" / "oca_l10n_italy" / "IT05979361218_ripilogoiva.xml", "bolletta.xml")
    closed_port = free_port_for_tests()  # nothing listens there, as when the demo runs on another --smtp-port
    env = {**env, "BOLLETTA_SMTP_URL": f"smtp://utente:segreto@127.0.0.1:{closed_port}",
           "BOLLETTA_OPERATIONS_EMAIL": "operazioni@example.org"}
    # The staff e-mail fails and its retry waits at least 15 s, so a short wait always times out.
    monkeypatch.setattr(queue_wait, "QUEUE_WAIT_MS", 2_000)
    _invoke(env, "db", "upgrade")
    _invoke(env, "tenant", "create", "acme", "ACME Energia S.p.A.")

    result = CliRunner().invoke(main, ["job", "import", "acme", str(archive)], env=env)

    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "QueueJoinTimeout" not in result.output  # the logged SMTP errors may show tracebacks, this may not
    assert "Error: Queued work did not finish within 2 s." in result.output
    assert "Still pending: notify_job" in result.output
    assert f"BOLLETTA_SMTP_URL (smtp://127.0.0.1:{closed_port})" in result.output
    assert "segreto" not in result.output
    assert "--smtp-port" in result.output


def test_demo_restart_keeps_caught_mail(tmp_path: Path) -> None:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("BOLLETTA_")}
    command = [sys.executable, "-m", "bolletta", "demo", "--once", "--data-dir", str(tmp_path / "data"),
               "--port", "0", "--sftp-port", "0", "--smtp-port", "0"]
    first = subprocess.run(command, capture_output=True, text=True, timeout=300, env=environ, check=False)
    assert first.returncode == 0, first.stderr[-3000:]
    stored = {path.name: path.read_bytes() for path in (tmp_path / "data" / "mail").glob("*.eml")}

    # The same flow again is a duplicate upload: the restart sends no new customer mail.
    second = subprocess.run(command, capture_output=True, text=True, timeout=300, env=environ, check=False)

    assert second.returncode == 0, second.stderr[-3000:]
    after = {path.name: path.read_bytes() for path in (tmp_path / "data" / "mail").glob("*.eml")}
    assert stored and all(after[name] == content for name, content in stored.items()), "earlier mail was overwritten"
    assert re.search(r"^\s+email\s+\S+\s+http://127\.0\.0\.1:\d+/c/acme/t/[0-9A-Za-z]{22}$", second.stdout, re.M), \
        second.stdout


def test_import_no_wait_needs_broker(env: dict[str, str], tmp_path: Path) -> None:
    archive = tmp_path / "vuoto.zip"
    archive.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    _invoke(env, "db", "upgrade")
    _invoke(env, "tenant", "create", "acme", "ACME")

    result = CliRunner().invoke(main, ["job", "import", "acme", str(archive), "--no-wait"], env=env)

    assert result.exit_code == 1, result.output
    assert "--no-wait needs a broker (BOLLETTA_BROKER_URL)" in result.output
    rt = runtime.configure(load_settings(environ=env))
    with rt.db.tenant_session("acme") as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0
