"""Liveness and readiness of the embedded stack, and readiness failing when a part is down."""

from __future__ import annotations

import logging
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgspec
import pytest

from bolletta.platform import health
from bolletta.platform.health import Check, readiness
from bolletta.platform.portal import view_relay
from bolletta.platform.stack import EmbeddedStack, start_stack
from tests.integration.stack_support import running_stack, stack_settings


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    with running_stack(tmp_path_factory.mktemp("data")) as running:
        yield running


def test_live_answers_ok(stack: EmbeddedStack) -> None:
    response = httpx.get(f"{stack.base_url}/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_checks_every_part(stack: EmbeddedStack) -> None:
    response = httpx.get(f"{stack.base_url}/health/ready")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "broker", "storage", "sftp"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["sftp"]["detail"] == "SSH server answered"
    assert body["optional"] == {"view_writer": {
        "ok": True, "detail": "no view writer process: this process writes its page views"}}


def test_ready_on_any_host(stack: EmbeddedStack) -> None:
    response = httpx.get(f"{stack.base_url}/health/ready", headers={"Host": "bollette.utility.example"})

    assert response.status_code == 200


def test_stopped_sftp_makes_not_ready(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The second stack points the process's SFTP check at its own server; put it back afterwards.
    monkeypatch.setattr(health, "_sftp_address", health._sftp_address)
    running = start_stack(stack_settings(tmp_path / "data"), create_secret=True, run_scheduler=False)
    try:
        running.sftp.stop()

        response = httpx.get(f"{running.base_url}/health/ready")
    finally:
        running.stop()

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["sftp"] == {"ok": False, "detail": "failed: ConnectionRefusedError"}
    assert body["checks"]["database"]["ok"] is True


def test_unwritable_storage_fails_its_check(
    stack: EmbeddedStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"")
    monkeypatch.setattr(stack.rt.storage, "root", blocker / "storage")

    result = readiness(stack.rt)

    assert result.status == "not_ready"
    assert result.checks["storage"] == Check(ok=False, detail="failed: NotADirectoryError")


def test_failing_check_logs_kind_only(stack: EmbeddedStack, monkeypatch: pytest.MonkeyPatch,
                                      caplog: pytest.LogCaptureFixture) -> None:
    def broken(_runtime: object) -> Check:
        raise OSError("connect to postgresql://bolletta:s3greto@db.example:5432 refused")

    monkeypatch.setitem(health.CHECKS, "database", broken)

    result = readiness(stack.rt)

    assert msgspec.to_builtins(result.checks["database"]) == {"ok": False, "detail": "failed: OSError"}
    assert "health: database check failed: OSError" in caplog.text
    assert "s3greto" not in caplog.text


def test_probes_log_no_ssh_errors(stack: EmbeddedStack, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            assert httpx.get(f"{stack.base_url}/health/ready").status_code == 200
        time.sleep(0.5)  # the SFTP server handles the probe's disconnect in its own thread

    ssh_errors = [record.getMessage() for record in caplog.records
                  if record.name.startswith("paramiko") and record.levelno >= logging.ERROR]
    assert ssh_errors == []


def test_process_without_sftp_is_ready(stack: EmbeddedStack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "_sftp_address", None)

    result = readiness(stack.rt)

    assert result.status == "ready"
    assert result.checks["sftp"] == Check(ok=True, detail="no SFTP server in this process")


def test_unreachable_view_writer_degraded_not_unready(stack: EmbeddedStack, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(view_relay.SOCKET_VARIABLE, str(tmp_path / "views.sock"))

    response = httpx.get(f"{stack.base_url}/health/ready")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert all(check["ok"] for check in body["checks"].values())
    assert body["optional"]["view_writer"] == {
        "ok": False, "detail": "failed: FileNotFoundError; the server processes write their page views themselves"}


def test_listening_view_writer_ready(stack: EmbeddedStack, monkeypatch: pytest.MonkeyPatch) -> None:
    with tempfile.TemporaryDirectory() as folder, socket.socket(socket.AF_UNIX) as listener:
        path = f"{folder}/views.sock"
        listener.bind(path)
        listener.listen(1)
        monkeypatch.setenv(view_relay.SOCKET_VARIABLE, path)

        result = readiness(stack.rt)

    assert result.status == "ready"
    assert result.optional["view_writer"] == Check(ok=True, detail="view writer process accepted a connection")


def test_failed_required_check_wins_over_degraded(stack: EmbeddedStack, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(view_relay.SOCKET_VARIABLE, str(tmp_path / "views.sock"))
    monkeypatch.setitem(health.CHECKS, "database", lambda _runtime: Check(ok=False, detail="failed: OSError"))

    result = readiness(stack.rt)

    assert result.status == "not_ready"
    assert result.optional["view_writer"].ok is False
