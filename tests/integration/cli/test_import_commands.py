"""``bolletta job import`` without a broker: argument checks, only its own job's work, clear errors."""

from __future__ import annotations

import zipfile
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from bolletta.cli import queue_wait
from bolletta.cli.main import main
from bolletta.platform import clock, runtime, tasks
from bolletta.platform.db.models.tenant import Job, OutboxTask
from bolletta.platform.jobs import states
from bolletta.platform.jobs.opening import open_job
from bolletta.platform.runtime import Runtime
from bolletta.platform.settings import load_settings
from tests.fakes.channel_server import free_port_for_tests

SECRET = "s" * 48
SAMPLE = Path("fatturapa") / "oca_l10n_italy" / "IT05979361218_ripilogoiva.xml"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"BOLLETTA_DATA_DIR": str(tmp_path), "BOLLETTA_SECRET_KEY": SECRET, "BOLLETTA_DATABASE_URL": "",
            "BOLLETTA_BROKER_URL": ""}


def _invoke(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _archive(path: Path, samples_dir: Path, entry: str = "bolletta.xml") -> Path:
    with zipfile.ZipFile(path, "w") as handle:
        handle.write(samples_dir / SAMPLE, entry)
    return path


def _jobs(env: dict[str, str], tenant: str) -> int:
    rt = runtime.configure(load_settings(environ=env))
    with rt.db.tenant_session(tenant) as session:
        return session.scalar(select(func.count()).select_from(Job)) or 0


@pytest.mark.parametrize("name", ["flusso.txt", "flusso.zip.bak", "flusso"])
def test_import_rejects_wrong_extension(env: dict[str, str], tmp_path: Path, name: str) -> None:
    archive = tmp_path / name
    archive.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    _invoke(env, "db", "upgrade")
    _invoke(env, "tenant", "create", "acme", "ACME")

    result = CliRunner().invoke(main, ["job", "import", "acme", str(archive)], env=env)

    assert result.exit_code == 2, result.output
    assert f"{name} is not a billing flow" in result.output
    assert ".zip, .xml, .p7m, .jsonl" in result.output
    assert _jobs(env, "acme") == 0


def test_import_rejects_empty_file(env: dict[str, str], tmp_path: Path) -> None:
    archive = tmp_path / "cli3.jsonl"
    archive.write_bytes(b"")
    _invoke(env, "db", "upgrade")
    _invoke(env, "tenant", "create", "acme", "ACME")

    result = CliRunner().invoke(main, ["job", "import", "acme", str(archive)], env=env)

    assert result.exit_code == 2, result.output
    assert "cli3.jsonl is empty (0 bytes)" in result.output
    assert _jobs(env, "acme") == 0


def _outbox_row(rt: Runtime, tenant: str, job_id: int) -> OutboxTask:
    with rt.db.tenant_session(tenant) as session:
        row = session.scalars(select(OutboxTask).where(OutboxTask.actor == "parse_job")).all()
        matching = [item for item in row if item.args[1] == job_id]
        assert len(matching) == 1, matching
        return matching[0]


def _state(rt: Runtime, tenant: str, job_id: int) -> str:
    with rt.db.tenant_session(tenant) as session:
        return session.get_one(Job, job_id).state


def test_import_runs_only_its_own_job(env: dict[str, str], tmp_path: Path, samples_dir: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _invoke(env, "db", "upgrade")
    _invoke(env, "tenant", "create", "acme", "ACME")
    _invoke(env, "tenant", "create", "beta", "Beta")
    rt = runtime.configure(load_settings(environ=env))
    # Work another process (the demo) has queued: one job not relayed yet, one its worker is parsing,
    # and one of another tenant.
    with monkeypatch.context() as patch:
        patch.setattr(tasks, "relay", lambda _db, _tenant: 0)
        queued = open_job(rt, "acme", _archive(tmp_path / "a.zip", samples_dir, "a.xml"), "a.zip",
                          source="sftp", opened_by="sftp:acme").job_id
        claimed = open_job(rt, "acme", _archive(tmp_path / "b.zip", samples_dir, "b.xml"), "b.zip",
                           source="sftp", opened_by="sftp:acme").job_id
        foreign = open_job(rt, "beta", _archive(tmp_path / "c.zip", samples_dir, "c.xml"), "c.zip",
                           source="sftp", opened_by="sftp:beta").job_id
    claimed_at = clock.now()
    with rt.db.tenant_session("acme") as session:
        session.execute(update(OutboxTask).where(OutboxTask.id == _outbox_row(rt, "acme", claimed).id)
                        .values(sent_at=claimed_at))
        session.commit()

    output = _invoke(env, "job", "import", "acme", str(_archive(tmp_path / "cli.zip", samples_dir)))

    rt = runtime.configure(load_settings(environ=env))
    assert "Job #3: test_sent, 1 bills accepted, 0 rejected." in output
    assert _state(rt, "acme", queued) == states.RECEIVED
    assert _state(rt, "acme", claimed) == states.RECEIVED
    assert _state(rt, "beta", foreign) == states.RECEIVED
    assert _outbox_row(rt, "acme", queued).sent_at is None
    assert _outbox_row(rt, "acme", claimed).sent_at is not None
    assert _outbox_row(rt, "acme", claimed).done_at is None
    assert _outbox_row(rt, "beta", foreign).sent_at is None


def test_failed_import_error_names_job_failure(env: dict[str, str], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    archive = tmp_path / "rotto.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("fattura.xml", b"<FatturaElettronica><unclosed>")
    env = {**env, "BOLLETTA_SMTP_URL": f"smtp://127.0.0.1:{free_port_for_tests()}",
           "BOLLETTA_OPERATIONS_EMAIL": "operazioni@example.org"}
    # The staff e-mail about the failure cannot go out, so the wait for the queue times out.
    monkeypatch.setattr(queue_wait, "QUEUE_WAIT_MS", 2_000)
    _invoke(env, "db", "upgrade")
    _invoke(env, "tenant", "create", "acme", "ACME")

    result = CliRunner().invoke(main, ["job", "import", "acme", str(archive)], env=env)

    assert result.exit_code == 1, result.output
    assert "Job #1: failed" in result.output
    assert "Rejected fattura.xml" in result.output
    assert "Error: Job #1 failed: see its report above. Queued work did not finish within 2 s." in result.output
    assert "Still pending: notify_job (1)." in result.output


def test_queue_timeout_names_smtp_only_for_mail(env: dict[str, str]) -> None:
    rt = runtime.configure(load_settings(environ=env))

    parse_only = queue_wait.timeout_message(rt, 60_000, Counter({"parse_job": 1}))
    with_mail = queue_wait.timeout_message(rt, 60_000, Counter({"parse_job": 1, "notify_job": 2}))
    nothing = queue_wait.timeout_message(rt, 60_000, Counter())

    assert "Still pending: parse_job (1)." in parse_only
    assert "SMTP" not in parse_only
    assert "Still pending: notify_job (2), parse_job (1)." in with_mail
    assert "BOLLETTA_SMTP_URL (smtp://127.0.0.1:1025)" in with_mail
    assert "SMTP" not in nothing
