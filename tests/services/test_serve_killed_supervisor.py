"""``bolletta serve --processes 2`` killed with SIGKILL: the next start removes the folders the killed
supervisor left, and never those of a supervisor that still runs."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bolletta.platform.runtime import Runtime
from tests.services.dispatch_support import SECRET, configure
from tests.services.scale_support import free_port

pytestmark = pytest.mark.services

REPO_ROOT = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"page view writer \d+ listening on (\S+)")


@pytest.fixture(scope="module")
def rt(database_url: str, broker_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    configured = configure(database_url, broker_url, f"bolletta-kill-{uuid.uuid4().hex[:10]}",
                           tmp_path_factory.mktemp("serve-kill"))
    yield configured
    configured.db.dispose()


@dataclass
class Serve:
    """One running ``bolletta serve --processes 2`` and the folders it made."""

    process: subprocess.Popen[bytes]
    log: Path
    port: int
    views_folder: Path
    metrics_folder: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def _start(rt: Runtime, log: Path) -> Serve:
    settings = rt.settings
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("BOLLETTA_")} | {
        "BOLLETTA_DATABASE_URL": settings.database_url, "BOLLETTA_BROKER_URL": settings.broker_url,
        "BOLLETTA_BROKER_NAMESPACE": settings.broker_namespace, "BOLLETTA_SECRET_KEY": SECRET,
        "BOLLETTA_DATA_DIR": settings.data_dir, "BOLLETTA_OPERATIONS_EMAIL": "",
        "BOLLETTA_HTTP_HOST": "127.0.0.1", "BOLLETTA_HTTP_PORT": str(port),
        "BOLLETTA_PLATFORM_HOST": f"127.0.0.1:{port}",
    }
    with log.open("ab") as output:
        process = subprocess.Popen([sys.executable, "-m", "bolletta", "serve", "--processes", "2"], cwd=REPO_ROOT,
                                   env=env, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while True:
        text = log.read_text(errors="replace")
        found = LISTENING.search(text)
        try:
            if found and httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert process.poll() is None, text
        assert time.monotonic() < deadline, text
        time.sleep(0.2)
    return Serve(process=process, log=log, port=port, views_folder=Path(found.group(1)).parent,
                 metrics_folder=Path(settings.data_dir) / "metrics" / f"serve-{process.pid}")


def _stop(serve: Serve) -> None:
    if serve.process.poll() is None:
        serve.process.send_signal(signal.SIGTERM)
        serve.process.wait(timeout=90)


def _refuses(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except OSError:
        return True


def _socket_refuses(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return True
    return False


def _wait_for(condition: object, what: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"{what}: not reached in {seconds:.0f} s"
        time.sleep(0.2)


def test_next_start_removes_folders_of_killed_supervisor(rt: Runtime, tmp_path: Path) -> None:
    killed = _start(rt, tmp_path / "killed.log")
    survivor = started_after = None
    try:
        assert killed.views_folder.is_dir(), killed.output()
        assert killed.metrics_folder.is_dir(), killed.output()
        survivor = _start(rt, tmp_path / "survivor.log")
        # The survivor started while the other ran: it left that one's folders alone.
        assert killed.views_folder.is_dir()
        assert killed.metrics_folder.is_dir()

        os.kill(killed.process.pid, signal.SIGKILL)
        killed.process.wait(timeout=10)
        # Its server processes and view writer get SIGTERM from the kernel and stop listening.
        _wait_for(lambda: _refuses(killed.port), "server processes of the killed supervisor stopped")
        _wait_for(lambda: _socket_refuses(killed.views_folder / "views.sock"), "view writer stopped")
        assert killed.views_folder.is_dir(), "nothing was left behind: the test would prove nothing"
        assert killed.metrics_folder.is_dir()

        started_after = _start(rt, tmp_path / "after.log")

        assert not killed.views_folder.exists()
        assert not killed.metrics_folder.exists()
        assert survivor.views_folder.is_dir()
        assert survivor.metrics_folder.is_dir()
        assert started_after.views_folder.is_dir()
        assert httpx.get(f"http://127.0.0.1:{survivor.port}/metrics", timeout=10).status_code == 200
    finally:
        for serve in (started_after, survivor, killed):
            if serve is not None:
                _stop(serve)

    assert survivor is not None and started_after is not None
    assert survivor.process.returncode == 0, survivor.output()
    assert started_after.process.returncode == 0, started_after.output()
    assert not survivor.views_folder.exists()
    assert not survivor.metrics_folder.exists()
    assert not started_after.views_folder.exists()
    assert not started_after.metrics_folder.exists()
