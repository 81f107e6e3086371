"""Production processes on RabbitMQ: `bolletta job import` queues the parsing, `bolletta worker` runs it.

Each command runs as its own process with the environment an operator would set, against a fresh
PostgreSQL database and the machine's RabbitMQ. The worker must stop cleanly on SIGTERM.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bolletta.platform.demo.flow import build_demo_flow
from bolletta.platform.jobs import states

pytestmark = pytest.mark.services

TENANT = "coniglio"
STARTED = "Worker running with 2 threads on RabbitmqBroker (every queue)."


def _environment(database_url: str, rabbitmq_url: str, data_dir: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", ""),
        "BOLLETTA_DATABASE_URL": database_url, "BOLLETTA_BROKER_URL": rabbitmq_url,
        "BOLLETTA_DATA_DIR": str(data_dir), "BOLLETTA_SECRET_KEY": secrets.token_hex(32),
        "BOLLETTA_OPERATIONS_EMAIL": "", "BOLLETTA_SMTP_URL": "smtp://127.0.0.1:9",
    }


def _bolletta(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bolletta", *arguments], env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def _job_row(database_url: str) -> tuple[str, int] | None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                text(f'SELECT state, bills_accepted FROM "tenant_{TENANT}".jobs ORDER BY id LIMIT 1')
            ).first()
    finally:
        engine.dispose()
    return (row[0], row[1]) if row is not None else None


def test_worker_on_rabbitmq_parses_imported_job(database_url: str, rabbitmq_url: str, tmp_path: Path) -> None:
    env = _environment(database_url, rabbitmq_url, tmp_path / "data")
    for command in (("db", "upgrade"), ("tenant", "create", TENANT, "Coniglio Energia S.p.A.")):
        done = _bolletta(env, *command)
        assert done.returncode == 0, done.stderr
    flow = build_demo_flow()
    archive = tmp_path / flow.filename
    archive.write_bytes(flow.archive)

    worker = subprocess.Popen([sys.executable, "-m", "bolletta", "worker", "--processes", "2", "--threads", "2"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    collector = threading.Thread(target=lambda: lines.extend(worker.stdout), daemon=True)
    collector.start()
    try:
        imported = _bolletta(env, "job", "import", TENANT, str(archive))
        assert imported.returncode == 0, imported.stdout + imported.stderr
        children = _children(worker.pid)

        deadline = time.monotonic() + 90
        row = _job_row(database_url)
        while (row is None or row[0] in (states.RECEIVED, states.PARSING)) and time.monotonic() < deadline:
            time.sleep(0.5)
            row = _job_row(database_url)

        # One worker may parse the whole job before the other has logged its start.
        while sum(STARTED in line for line in list(lines)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
        collector.join(timeout=10)
    output = "".join(lines)

    assert row is not None
    assert row[0] not in (states.RECEIVED, states.PARSING, states.FAILED), output
    assert row[1] == len(flow.document_numbers)
    assert worker.returncode == 0, output
    assert len(children) == 2
    assert output.count(STARTED) == 2


def test_unknown_queue_named(database_url: str, rabbitmq_url: str, tmp_path: Path) -> None:
    env = _environment(database_url, rabbitmq_url, tmp_path / "data")

    done = _bolletta(env, "worker", "--queues", "default,fatture")

    assert done.returncode == 1
    assert "Unknown queue fatture; the queues are default, speech." in done.stderr


def _children(pid: int) -> list[int]:
    """Return the child processes of ``pid`` (Linux), waiting up to 30 s for the supervisor to start two."""
    deadline = time.monotonic() + 30
    while True:
        children = [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        if len(children) >= 2 or time.monotonic() > deadline:
            return children
        time.sleep(0.2)


def test_early_stop_is_clean(database_url: str, rabbitmq_url: str, tmp_path: Path) -> None:
    """A stop that reaches the workers while they are still starting ends with status 0."""
    env = _environment(database_url, rabbitmq_url, tmp_path / "data")
    assert _bolletta(env, "db", "upgrade").returncode == 0
    worker = subprocess.Popen([sys.executable, "-m", "bolletta", "worker", "--processes", "2", "--threads", "1"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 30
    while len(_children(worker.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)

    worker.send_signal(signal.SIGTERM)
    output, _ = worker.communicate(timeout=60)

    assert worker.returncode == 0, output
