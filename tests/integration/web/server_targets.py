"""Module-level targets for the server-process tests: spawned processes import them by name."""

from __future__ import annotations

import os
import sys

from litestar import Litestar, Response, get
from prometheus_client import generate_latest

from bolletta.platform.metrics import scrape_registry
from bolletta.platform.web.http_metrics import http_metrics
from bolletta.platform.web.server import serve_app


@get("/pid", sync_to_thread=False)
def pid() -> dict[str, int]:
    return {"pid": os.getpid()}


def serve_pid_app(port: int) -> None:
    """Serve an app that responds with this process's id."""
    serve_app(Litestar([pid]), "127.0.0.1", port, lifespan="off", log_level="warning", access_log=False)


@get("/scrape", sync_to_thread=False)
def scrape() -> Response[bytes]:
    return Response(generate_latest(scrape_registry()), media_type="text/plain")


def serve_counted_app(port: int) -> None:
    """Serve the process-id app with request metrics and a scrape page, as ``bolletta serve`` has them."""
    serve_app(Litestar([pid, scrape], middleware=[http_metrics]), "127.0.0.1", port, lifespan="off",
              log_level="warning", access_log=False)


def exit_at_once(code: int) -> None:
    """End the process with ``code`` as a server that cannot start would."""
    sys.exit(code)
