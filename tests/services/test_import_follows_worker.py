"""`bolletta job import` with a broker: it follows the job while a separate `bolletta worker` parses it.

Every command runs as its own process against a fresh PostgreSQL database and Redis, with a broker
namespace of this module's own so no other run's worker takes the messages.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bolletta.platform.demo.flow import build_demo_flow

pytestmark = pytest.mark.services


def _environment(database_url: str, broker_url: str, data_dir: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", ""),
        "BOLLETTA_DATABASE_URL": database_url, "BOLLETTA_BROKER_URL": broker_url,
        "BOLLETTA_BROKER_NAMESPACE": f"bolletta-test-{uuid.uuid4().hex[:12]}",
        "BOLLETTA_DATA_DIR": str(data_dir), "BOLLETTA_SECRET_KEY": secrets.token_hex(32),
        "BOLLETTA_OPERATIONS_EMAIL": "", "BOLLETTA_SMTP_URL": "smtp://127.0.0.1:9",
    }


def _bolletta(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bolletta", *arguments], env=env, capture_output=True,
                          text=True, timeout=240, check=False)


def _tenant_with_archive(env: dict[str, str], tenant: str, tmp_path: Path) -> tuple[Path, int]:
    """Create ``tenant`` and write a demo flow; return the archive and how many bills it holds."""
    for command in (("db", "upgrade"), ("tenant", "create", tenant, "Prova Energia S.p.A.")):
        done = _bolletta(env, *command)
        assert done.returncode == 0, done.stderr
    flow = build_demo_flow()
    archive = tmp_path / flow.filename
    archive.write_bytes(flow.archive)
    return archive, len(flow.document_numbers)


@contextmanager
def _worker(env: dict[str, str]) -> Iterator[None]:
    worker = subprocess.Popen([sys.executable, "-m", "bolletta", "worker", "--processes", "1", "--threads", "2"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)


def test_import_waits_for_worker(database_url: str, broker_url: str, tmp_path: Path) -> None:
    env = _environment(database_url, broker_url, tmp_path / "data")
    archive, bills = _tenant_with_archive(env, "attesa", tmp_path)

    with _worker(env):
        imported = _bolletta(env, "job", "import", "attesa", str(archive), "--timeout", "180")

    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "bills accepted, 0 rejected." in imported.stdout
    final = imported.stdout.strip().splitlines()[-1]
    assert final.startswith("Job #1: "), imported.stdout
    assert final.split(": ", 1)[1].split(",")[0] not in ("received", "parsing", "failed"), imported.stdout
    assert f"{bills} bills accepted" in final, imported.stdout


def test_import_timeout_then_job_wait(database_url: str, broker_url: str, tmp_path: Path) -> None:
    env = _environment(database_url, broker_url, tmp_path / "data")
    archive, bills = _tenant_with_archive(env, "ritardo", tmp_path)

    timed_out = _bolletta(env, "job", "import", "ritardo", str(archive), "--timeout", "1")
    queued = _bolletta(env, "job", "import", "ritardo", str(archive), "--no-wait")
    with _worker(env):
        followed = _bolletta(env, "job", "wait", "ritardo", "1", "--timeout", "180")

    assert timed_out.returncode == 3, timed_out.stdout + timed_out.stderr
    assert "Job #1 is still received after 1 s; it goes on in the worker" in timed_out.stdout
    assert "Follow it with: bolletta job wait ritardo 1" in timed_out.stdout
    assert queued.returncode == 0, queued.stdout + queued.stderr
    assert "already imported as job #1" in queued.stdout
    assert "Job #1 received; a worker parses it. Follow it with: bolletta job wait ritardo 1" in queued.stdout
    assert followed.returncode == 0, followed.stdout + followed.stderr
    assert f"{bills} bills accepted, 0 rejected." in followed.stdout.strip().splitlines()[-1]


def test_job_wait_unknown_job(database_url: str, broker_url: str, tmp_path: Path) -> None:
    env = _environment(database_url, broker_url, tmp_path / "data")
    _tenant_with_archive(env, "ignoto", tmp_path)

    result = _bolletta(env, "job", "wait", "ignoto", "7")

    assert result.returncode == 1
    assert "Job #7 of tenant ignoto not found; check the id." in result.stderr
