"""Everything in one process: web server, SFTP server, mail catcher and worker.

The embedded default (``bolletta demo``) and the end-to-end test run this. Listening sockets are
bound before the settings are final, so port 0 gives free ports and the public URL matches them.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import dramatiq
import msgspec
import uvicorn
from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker

from bolletta.platform import health, periodic, runtime, tasks, workers
from bolletta.platform.app import create_app
from bolletta.platform.db import migrate
from bolletta.platform.errors import ConfigurationError
from bolletta.platform.mail.catcher import MailCatcher
from bolletta.platform.portal import view_events
from bolletta.platform.runtime import Runtime
from bolletta.platform.schedule import ScheduleLoop
from bolletta.platform.settings import Settings
from bolletta.platform.sftp.embedded import build_sftp_server
from bolletta.platform.sftp.server import SftpServer
from bolletta.tenants.registry import all_tenant_slugs

logger = logging.getLogger(__name__)

SERVER_START_TIMEOUT_SECONDS = 15.0
DRAIN_TIMEOUT_MS = 30_000


def bind_socket(host: str, port: int, *, option: str = "--port") -> socket.socket:
    """Open a listening TCP socket; port 0 picks a free one.

    Raises:
        ConfigurationError: the port is taken; the message names it and the option to change it.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigurationError(
            f"Cannot listen on {host}:{port} ({exc.strerror}). Stop the program using it, or pass {option} "
            "with another port (0 picks a free one)."
        ) from exc
    sock.listen(128)
    return sock


def _start_or_explain(start: Callable[[], None], host: str, port: int, option: str) -> None:
    try:
        start()
    except OSError as exc:
        raise ConfigurationError(
            f"Cannot listen on {host}:{port} ({exc.strerror or exc}). Stop the program using it, or pass "
            f"{option} with another port (0 picks a free one)."
        ) from exc


@dataclass
class EmbeddedStack:
    """The running parts of one process; :meth:`stop` shuts them down in reverse order."""

    rt: Runtime
    http_port: int
    sftp: SftpServer
    catcher: MailCatcher | None
    processing: tasks.Processing
    server: uvicorn.Server
    scheduler: ScheduleLoop | None = None
    threads: list[threading.Thread] = field(default_factory=list)

    @property
    def worker(self) -> Worker | None:
        """The in-process worker, when this stack runs one."""
        return self.processing.worker

    @property
    def base_url(self) -> str:
        """Where the web app answers."""
        return f"http://{self.rt.settings.http_host}:{self.http_port}"

    def stop(self) -> None:
        """Stop the web server, the SFTP server, the worker and the mail catcher, then close the database.

        With the in-memory queue, the worker first finishes the work already queued (for up to
        :data:`DRAIN_TIMEOUT_MS`): the queue lives as long as the process, so a message left in it
        would otherwise run later against whatever runtime the process has then.
        """
        self.server.should_exit = True
        for thread in self.threads:
            thread.join(timeout=10)
        if self.scheduler is not None:
            self.scheduler.stop()
        broker = dramatiq.get_broker()
        if self.worker is not None and isinstance(broker, StubBroker):
            try:
                workers.wait_idle(broker, timeout_ms=DRAIN_TIMEOUT_MS)
            except Exception:  # a failed or slow message must not keep the stack from stopping
                logger.warning("embedded stack: queued work did not finish before stopping", exc_info=True)
        self.sftp.stop()
        self.processing.stop()
        if self.catcher is not None:
            self.catcher.stop()
        if any(thread.is_alive() for thread in self.threads):
            # The server still runs on its event loop, so its async pools stay open.
            logger.warning("embedded stack: the web server did not stop in time, so its async database pools stay open")
            self.rt.db.dispose()
            return
        # The server's event loop has ended: its views still queued are written now, not by the
        # ``atexit`` hook after the database is closed.
        view_events.write_queued(self.rt)
        self.rt.db.close()


def start_stack(
    settings: Settings, *, catch_mail: bool = True, smtp_port: int = 0, run_worker: bool = True,
    create_secret: bool = False, worker_threads: int = 4, run_scheduler: bool = True,
) -> EmbeddedStack:
    """Configure the runtime for ``settings`` and start every part; ports 0 pick free ones."""
    http_socket = bind_socket(settings.http_host, settings.http_port)
    http_port = http_socket.getsockname()[1]
    overrides: dict[str, Any] = {"http_port": http_port}
    if settings.public_base_url == Settings().public_base_url or settings.http_port == 0:
        overrides["public_base_url"] = f"http://{settings.http_host}:{http_port}"
        overrides["platform_host"] = f"{settings.http_host}:{http_port}"
    catcher = None
    try:
        if catch_mail:
            catcher = MailCatcher(host="127.0.0.1", port=smtp_port, store_dir=settings.data_path / "mail")
            _start_or_explain(catcher.start, "127.0.0.1", smtp_port, "--smtp-port")
            overrides["smtp_url"] = f"smtp://127.0.0.1:{catcher.port}"
        settings = msgspec.structs.replace(settings, **overrides)
        rt = runtime.configure(settings, create_secret=create_secret)
        sftp = build_sftp_server(rt, host=settings.sftp_host, port=settings.sftp_port)
        _start_or_explain(sftp.start, settings.sftp_host, settings.sftp_port, "--sftp-port")
        # Port 0 picked a free port: the settings name the real one.
        rt.settings = msgspec.structs.replace(rt.settings, sftp_port=sftp.port)
        health.expect_sftp(settings.sftp_host, sftp.port)
    except BaseException:
        http_socket.close()
        if catcher is not None:
            catcher.stop()
        raise
    broker = workers.setup_broker(settings)
    workers.load_actors()
    migrate.upgrade_platform(rt.db)
    for slug in all_tenant_slugs(rt.db):
        migrate.upgrade_tenant(rt.db, slug)
    processing = tasks.start_processing(rt.db, broker, run_worker=run_worker, threads=worker_threads)
    scheduler = periodic.schedule_loop(rt) if run_scheduler else None
    if scheduler is not None:
        scheduler.start()

    server = uvicorn.Server(uvicorn.Config(create_app(rt), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [http_socket]}, name="http", daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)

    logger.info("embedded stack: http %d, sftp %d", http_port, sftp.port)
    return EmbeddedStack(rt=rt, http_port=http_port, sftp=sftp, catcher=catcher, processing=processing,
                         server=server, scheduler=scheduler, threads=[thread])
