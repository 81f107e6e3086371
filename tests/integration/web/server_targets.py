"""Module-level targets for the server-process tests: spawned processes import them by name."""

from __future__ import annotations

import os
import sys

from litestar import Litestar, get

from bolletta.platform.web.server import serve_app


@get("/pid", sync_to_thread=False)
def pid() -> dict[str, int]:
    return {"pid": os.getpid()}


def serve_pid_app(port: int) -> None:
    """Serve an app answering with this process's id."""
    serve_app(Litestar([pid]), "127.0.0.1", port, lifespan="off", log_level="warning", access_log=False)


def exit_at_once(code: int) -> None:
    """End the process with ``code`` as a server that cannot start would."""
    sys.exit(code)
