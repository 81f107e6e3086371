"""What the dispatch fault tests and the benchmark share: a private Redis, worker processes, the runtime.

The tests never touch the machine's shared Redis: :class:`PrivateRedis` starts its own
``redis-server`` on a free loopback port (append-only file in a temporary folder, so a restart keeps
the queue) and stops it. Worker processes are real ``bolletta worker`` processes, so a SIGKILL is a
real crash.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

from bolletta.platform import runtime, workers
from bolletta.platform.db import migrate
from bolletta.platform.runtime import Runtime
from bolletta.platform.settings import load_settings
from bolletta.tenants.registry import create_tenant
from tests.integration.stack_support import tenant_config

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET = "dispatch-fault-tests-secret-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivateRedis:
    """A ``redis-server`` of this test run on 127.0.0.1 and a free port."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server (again, on the same port and files) and wait until it answers."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed; .ci/run installs it")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
             "--appendfsync", "always", "--dir", str(self.folder), "--logfile", str(self.folder / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(host="127.0.0.1", port=self.port)
        deadline = time.monotonic() + 20
        while True:
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server at once (SIGKILL), as an outage would."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@contextmanager
def private_broker(url: str, namespace: str) -> Iterator[RedisBroker]:
    """Make a Redis broker on ``url`` the process's broker inside the block, with every actor declared."""
    workers.load_actors()
    previous = dramatiq.get_broker()
    broker = RedisBroker(url=url, namespace=namespace)
    for name in previous.get_declared_actors():
        broker.declare_actor(previous.get_actor(name))
    saved = workers._broker
    dramatiq.set_broker(broker)
    workers._broker = broker
    try:
        yield broker
    finally:
        dramatiq.set_broker(previous)
        workers._broker = saved
        broker.close()


def configure(database_url: str, broker_url: str, namespace: str, data_dir: Path) -> Runtime:
    """Configure this process's runtime on PostgreSQL and migrate the platform schema."""
    settings = load_settings(environ={}, data_dir=str(data_dir), database_url=database_url, broker_url=broker_url,
                             broker_namespace=namespace, secret_key=SECRET, tenant_path_prefix=True,
                             cookie_secure=False, operations_email="")
    rt = runtime.configure(settings)
    migrate.upgrade_platform(rt.db)
    return rt


def new_tenant(rt: Runtime, slug: str, **changes: Any) -> str:
    create_tenant(rt.db, slug, f"Utility {slug}", tenant_config(slug, notification_emails=[], **changes))
    return slug


class WorkerProcess:
    """One ``bolletta worker`` process on the given database and broker."""

    def __init__(self, rt: Runtime, log: Path, threads: int = 8) -> None:
        settings = rt.settings
        env = {key: value for key, value in os.environ.items() if not key.startswith("BOLLETTA_")}
        env |= {
            "BOLLETTA_DATABASE_URL": settings.database_url, "BOLLETTA_BROKER_URL": settings.broker_url,
            "BOLLETTA_BROKER_NAMESPACE": settings.broker_namespace, "BOLLETTA_SECRET_KEY": SECRET,
            "BOLLETTA_DATA_DIR": settings.data_dir, "BOLLETTA_TENANT_PATH_PREFIX": "true",
            "BOLLETTA_PUBLIC_BASE_URL": settings.public_base_url, "BOLLETTA_OPERATIONS_EMAIL": "",
        }
        self.log = open(log, "ab")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bolletta", "worker", "--threads", str(threads)],
            cwd=REPO_ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        """SIGKILL: no cleanup, no acknowledgements, as a crash."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


def wait_for(condition: Callable[[], bool], timeout: float, every: float = 0.2,
             between: Callable[[], Any] | None = None) -> None:
    """Poll ``condition`` until it holds, calling ``between`` after each miss; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        if between is not None:
            between()
        time.sleep(every)


def namespace() -> str:
    return f"bolletta-fault-{uuid.uuid4().hex[:10]}"
