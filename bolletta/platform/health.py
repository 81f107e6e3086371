"""Health of the parts a process depends on: database, broker, storage and the SFTP server.

``/health/live`` returns 200 whenever the process handles requests. ``/health/ready`` runs every
check below and returns 503 when one fails, so a load balancer stops sending traffic to a process
that cannot serve it. It also runs the optional checks, of parts the process can work without: a
failed one makes the status ``degraded``, still with 200. A check's detail names the failure kind
and never a URL, a user or a password.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from typing import Any

import anyio
import dramatiq
import msgspec
from dramatiq.brokers.stub import StubBroker
from litestar import Response, get
from sqlalchemy import text

from bolletta.platform.portal import view_relay
from bolletta.platform.runtime import Runtime
from bolletta.platform.web.context import rt

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 3.0


class Check(msgspec.Struct, kw_only=True):
    """The outcome of one check."""

    ok: bool
    detail: str


class Readiness(msgspec.Struct, kw_only=True):
    """The response body of ``/health/ready``.

    The status is ``ready`` when every check passed, ``degraded`` when only optional checks failed,
    and ``not_ready`` when a check in ``checks`` failed.
    """

    status: str
    checks: dict[str, Check]
    optional: dict[str, Check] = msgspec.field(default_factory=dict)
    """Checks of parts the process works without, less well: their failure never makes it not ready."""


def check_database(runtime: Runtime) -> Check:
    """Run ``SELECT 1`` on the platform database."""
    with runtime.db.platform_engine().connect() as connection:
        connection.execute(text("SELECT 1"))
    return Check(ok=True, detail="SELECT 1 answered")


def check_broker(runtime: Runtime) -> Check:
    """Ping Redis, or open and close a RabbitMQ connection; the in-memory broker is always up."""
    broker = dramatiq.get_broker()
    if isinstance(broker, StubBroker):
        return Check(ok=True, detail="in-memory queue of this process")
    url = runtime.settings.broker_url
    if url.startswith(("redis://", "rediss://")):
        import redis

        client = redis.Redis.from_url(url, socket_timeout=CHECK_TIMEOUT_SECONDS,
                                      socket_connect_timeout=CHECK_TIMEOUT_SECONDS)
        try:
            client.ping()
        finally:
            client.close()
        return Check(ok=True, detail="Redis answered PING")
    import pika

    parameters = pika.URLParameters(url)
    parameters.socket_timeout = CHECK_TIMEOUT_SECONDS
    parameters.connection_attempts = 1
    pika.BlockingConnection(parameters).close()
    return Check(ok=True, detail="RabbitMQ accepted a connection")


def check_storage(runtime: Runtime) -> Check:
    """Write, read back and delete a small object outside every tenant's prefix."""
    runtime.storage.probe()
    return Check(ok=True, detail="write, read and delete succeeded")


_sftp_address: tuple[str, int] | None = None


def expect_sftp(host: str, port: int) -> None:
    """Make readiness check the SFTP server this process runs (the embedded stack calls this).

    A web process without its own SFTP server does not check one, so it stays ready while the
    separate ``bolletta sftp serve`` process restarts.
    """
    global _sftp_address
    _sftp_address = ("127.0.0.1" if host in ("0.0.0.0", "::", "") else host, port)


def check_sftp(runtime: Runtime) -> Check:
    """Read the SFTP server's SSH identification line, send ours, and leave with an orderly close.

    The probe reads everything the server sends until the server closes: closing with unread data
    would reset the connection, and the server would log an error for every probe.
    """
    if _sftp_address is None:
        return Check(ok=True, detail="no SFTP server in this process")
    with socket.create_connection(_sftp_address, timeout=CHECK_TIMEOUT_SECONDS) as sock:
        banner = sock.recv(256)
        sock.sendall(b"SSH-2.0-BollettaHealthCheck\r\n")
        sock.shutdown(socket.SHUT_WR)
        while sock.recv(4096):
            pass
    if not banner.startswith(b"SSH-2.0-"):
        return Check(ok=False, detail="the server did not identify as SSH 2.0")
    return Check(ok=True, detail="SSH server answered")


def check_view_writer(_runtime: Runtime) -> Check:
    """Connect to the socket of the page view writer process of ``bolletta serve --processes N``, then close.

    The writer reads nothing from a connection that closes at once, and logs nothing for it. While
    it is unreachable, each server process writes its page views itself, so no view is lost and the
    process stays ready.
    """
    path = os.environ.get(view_relay.SOCKET_VARIABLE)
    if not path:
        return Check(ok=True, detail="no view writer process: this process writes its page views")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(CHECK_TIMEOUT_SECONDS)
        probe.connect(path)
    return Check(ok=True, detail="view writer process accepted a connection")


CHECKS: dict[str, Callable[[Runtime], Check]] = {
    "database": check_database,
    "broker": check_broker,
    "storage": check_storage,
    "sftp": check_sftp,
}
OPTIONAL_CHECKS: dict[str, Callable[[Runtime], Check]] = {
    "view_writer": check_view_writer,
}
OPTIONAL_FAILURE_EFFECTS = {
    "view_writer": "the server processes write their page views themselves",
}
"""The fallback the process uses while an optional check fails, shown after the failure kind."""


def readiness(runtime: Runtime) -> Readiness:
    """Run every check; an exception in a check is a failed check, logged with its kind only."""
    results = _run(CHECKS, runtime)
    optional = _run(OPTIONAL_CHECKS, runtime)
    if not all(result.ok for result in results.values()):
        status = "not_ready"
    elif not all(result.ok for result in optional.values()):
        status = "degraded"
    else:
        status = "ready"
    return Readiness(status=status, checks=results, optional=optional)


def _run(checks: dict[str, Callable[[Runtime], Check]], runtime: Runtime) -> dict[str, Check]:
    results = {}
    for name, check in checks.items():
        try:
            results[name] = check(runtime)
        except Exception as exc:  # noqa: BLE001  # any failure of a dependency fails its check
            logger.warning("health: %s check failed: %s", name, type(exc).__name__)
            effect = OPTIONAL_FAILURE_EFFECTS.get(name)
            detail = f"failed: {type(exc).__name__}"
            results[name] = Check(ok=False, detail=f"{detail}; {effect}" if effect else detail)
    return results


@get("/health/live", name="health_live", exclude_from_csrf=True, sync_to_thread=False)
def health_live() -> dict[str, str]:
    """Return ``ok`` while the process handles requests."""
    return {"status": "ok"}


@get("/health/ready", name="health_ready", exclude_from_csrf=True)
async def health_ready() -> Response[Any]:
    """Return 200 when the database, broker, storage and SFTP server all work, else 503.

    A failed optional check (the view writer process) gives status ``degraded`` and still 200.
    """
    result = await anyio.to_thread.run_sync(readiness, rt())
    return Response(msgspec.to_builtins(result), status_code=503 if result.status == "not_ready" else 200)
