"""Serving from several processes (``bolletta serve --processes N``): each has its own socket on the port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from bolletta.cli.main import main
from bolletta.platform.web import server
from bolletta.platform.web.server import (
    PortInUse,
    ServerProcessesFailed,
    bind_shared_port,
    check_port_free,
    run_processes,
)
from tests.integration.web.server_targets import exit_at_once

REPO_ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _pids(port: int, connections: int) -> list[int]:
    """Open ``connections`` new connections and return the process id each one was served by."""
    pids = []
    for _ in range(connections):
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            pids.append(client.get("/pid").json()["pid"])
    return pids


def _wait_for_pids(port: int, count: int, deadline: float = 60.0) -> set[int]:
    """Wait until ``count`` different processes respond on ``port``, and return their ids."""
    seen: set[int] = set()
    stop_at = time.monotonic() + deadline
    while time.monotonic() < stop_at:
        try:
            seen = set(_pids(port, 20))
        except httpx.TransportError:
            time.sleep(0.2)
            continue
        if len(seen) >= count:
            return seen
    raise AssertionError(f"only {len(seen)} of {count} server processes answered on port {port}")


@pytest.fixture
def supervisor() -> tuple[subprocess.Popen[bytes], int]:
    """A supervisor of two ``serve_pid_app`` processes in its own Python process."""
    port = _free_port()
    code = ("from bolletta.platform.web.server import run_processes; "
            "from tests.integration.web.server_targets import serve_pid_app; "
            f"run_processes(serve_pid_app, ({port},), 2)")
    process = subprocess.Popen([sys.executable, "-c", code], cwd=REPO_ROOT)
    yield process, port
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_second_socket_binds_same_port() -> None:
    first = bind_shared_port("127.0.0.1", 0)
    port = first.getsockname()[1]
    second = bind_shared_port("127.0.0.1", port)
    try:
        assert second.getsockname()[1] == port
    finally:
        first.close()
        second.close()


def test_port_taken_without_reuseport_refused() -> None:
    with socket.socket() as plain:
        plain.bind(("127.0.0.1", 0))
        plain.listen()
        with pytest.raises(OSError):
            bind_shared_port("127.0.0.1", plain.getsockname()[1])


def test_connections_reach_both_processes(supervisor: tuple[subprocess.Popen[bytes], int]) -> None:
    _process, port = supervisor
    pids = _wait_for_pids(port, 2)

    assert len(pids) == 2


def test_ended_process_replaced(supervisor: tuple[subprocess.Popen[bytes], int]) -> None:
    _process, port = supervisor
    first = _wait_for_pids(port, 2)
    victim = min(first)
    os.kill(victim, signal.SIGKILL)

    after = _wait_for_pids(port, 2)

    assert victim not in after
    assert len(after - first) == 1


def test_sigterm_stops_every_process(supervisor: tuple[subprocess.Popen[bytes], int]) -> None:
    process, port = supervisor
    pids = _wait_for_pids(port, 2)
    process.send_signal(signal.SIGTERM)

    assert process.wait(timeout=40) == 0
    assert not any(_alive(pid) for pid in pids)


def test_killed_supervisor_leaves_no_server(supervisor: tuple[subprocess.Popen[bytes], int]) -> None:
    process, port = supervisor
    pids = _wait_for_pids(port, 2)
    process.kill()
    process.wait()

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.2)

    assert not any(_alive(pid) for pid in pids)
    with pytest.raises(httpx.TransportError):
        _pids(port, 1)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its parent counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_processes_failing_at_start_give_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server, "MAX_FAST_EXITS", 2)

    with pytest.raises(ServerProcessesFailed, match="exit code 3"):
        run_processes(exit_at_once, (3,), 1)


def test_serve_processes_need_broker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BOLLETTA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BOLLETTA_BROKER_URL", "")

    result = CliRunner().invoke(main, ["serve", "--processes", "2"])

    assert result.exit_code == 1
    assert "--processes 2 needs BOLLETTA_BROKER_URL" in result.output


def test_second_instance_refused(supervisor: tuple[subprocess.Popen[bytes], int]) -> None:
    _process, port = supervisor
    _wait_for_pids(port, 2)

    with pytest.raises(PortInUse, match=f"127.0.0.1:{port} is already in use"):
        check_port_free("127.0.0.1", port)


def test_serve_processes_database_unreachable_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BOLLETTA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BOLLETTA_BROKER_URL", "redis://127.0.0.1:6379/13")
    monkeypatch.setenv("BOLLETTA_SECRET_KEY", "s" * 48)
    monkeypatch.setenv("BOLLETTA_DATABASE_URL", "postgresql+psycopg://bolletta:segreta@127.0.0.1:9/assente")

    result = CliRunner().invoke(main, ["serve", "--processes", "2"])

    assert result.exit_code == 1
    assert "The database of BOLLETTA_DATABASE_URL cannot be reached" in result.output
    assert "segreta" not in result.output
    assert "Traceback" not in result.output


def test_port_in_time_wait_is_free() -> None:
    """A restart right after a stop with traffic: the old connections in TIME-WAIT are no listener."""
    listener = bind_shared_port("127.0.0.1", 0)
    port = listener.getsockname()[1]
    with socket.create_connection(("127.0.0.1", port)) as client:
        accepted, _address = listener.accept()
        accepted.close()  # the server side closes first, so its end waits in TIME-WAIT
        client.recv(1)
    listener.close()
    states = subprocess.run(["ss", "-tan", f"sport = :{port}"], capture_output=True, text=True, check=False).stdout
    assert "TIME-WAIT" in states

    check_port_free("127.0.0.1", port)


def test_serve_processes_bad_setting_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BOLLETTA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BOLLETTA_BROKER_URL", "redis://127.0.0.1:6379/13")
    monkeypatch.delenv("BOLLETTA_SECRET_KEY", raising=False)

    result = CliRunner().invoke(main, ["serve", "--processes", "2"])

    assert result.exit_code == 1
    assert "BOLLETTA_SECRET_KEY is not set" in result.output
    assert "Traceback" not in result.output


def test_scrape_sums_every_process(tmp_path: Path) -> None:
    port = _free_port()
    code = ("from pathlib import Path; from bolletta.platform.metrics import shared_metrics; "
            "from bolletta.platform.web.server import run_processes; "
            "from tests.integration.web.server_targets import serve_counted_app; "
            f"cm = shared_metrics(Path({str(tmp_path)!r}))\n"
            "with cm as ended: run_processes(serve_counted_app, (" + str(port) + ",), 2, on_exit=ended)")
    process = subprocess.Popen([sys.executable, "-c", code], cwd=REPO_ROOT)
    try:
        served = _wait_for_pids(port, 2)
        requests = 20 + len(_pids(port, 20))  # _wait_for_pids made 20 requests per try
        scrapes = []
        for _ in range(6):
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
                scrapes.append(client.get("/scrape").text)
    finally:
        process.terminate()
        process.wait(timeout=40)

    counts = {_pid_requests(text) for text in scrapes}
    assert len(served) == 2
    assert len(counts) == 1
    assert counts.pop() >= requests


def _pid_requests(text: str) -> float:
    """The ``/pid`` request count in a scrape's text (0 when absent)."""
    for line in text.splitlines():
        if line.startswith("bolletta_http_requests_total{") and 'path="/pid"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0
