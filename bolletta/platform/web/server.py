"""Serving the web app from several processes, each listening on its own socket.

uvicorn's ``--workers`` hands one listening socket to every process. When connections arrive
together, the process that wakes first accepts all that are waiting, so a burst of keep-alive
connections can land on one process while the others idle for as long as those connections last.
Here each process binds its own socket to the same address with ``SO_REUSEPORT``, and the Linux
kernel spreads new connections over the sockets by a hash of their addresses. A process that dies
closes its socket, and the kernel stops sending connections to it until the supervisor has started
a replacement.

The processes are started with ``spawn``, so each builds its own app, database engines and threads
from nothing, as a separate ``bolletta serve`` would. On Linux each one requests SIGTERM from the
kernel for when the supervisor ends, so a supervisor killed with SIGKILL leaves no server behind.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from typing import Any

logger = logging.getLogger(__name__)

LISTEN_BACKLOG = 2048
STOP_SECONDS = 30.0
"""Time each process gets to finish its requests after SIGTERM before it is killed."""
FAST_EXIT_SECONDS = 10.0
"""A process that ends sooner than this after starting counts as a failed start."""
MAX_FAST_EXITS = 3
"""Failed starts in a row after which the supervisor gives up instead of restarting forever."""

_CONTEXT = multiprocessing.get_context("spawn")
_PR_SET_PDEATHSIG = 1
"""The ``prctl`` option that sends the calling process a signal when its parent ends (Linux)."""


class ServerProcessesFailed(RuntimeError):
    """The server processes kept ending right after they started; the message names the exit code."""


class PortInUse(RuntimeError):
    """The address to serve on is taken; the message names it and what to do."""


def bind_shared_port(host: str, port: int) -> socket.socket:
    """Return a listening TCP socket on ``host:port`` that other sockets of this user may also bind.

    Raises:
        OSError: the address is taken by a socket without ``SO_REUSEPORT``, or ``host`` is not
            an address of this machine.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        listener.bind((host, port))
        listener.listen(LISTEN_BACKLOG)
    except OSError:
        listener.close()
        raise
    return listener


def check_port_free(host: str, port: int) -> None:
    """Raise ``PortInUse`` if a socket already listens on ``host:port``, ours with ``SO_REUSEPORT`` included.

    Every process of a running ``bolletta serve --processes N`` binds with ``SO_REUSEPORT``, which
    would let a second instance run by the same user join the port and take half the connections.
    A bind without ``SO_REUSEPORT`` fails while any of them listens, so the supervisor tries one
    before it starts. The probe sets ``SO_REUSEADDR``, as the servers do: connections of a stopped
    server wait in TIME-WAIT for a minute, and a restart must not count them as a listener.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise PortInUse(
                f"{host}:{port} is already in use ({exc.strerror}): another server, or another bolletta serve, "
                "listens there. Stop it, or set BOLLETTA_HTTP_PORT to a free port."
            ) from exc


def serve_app(app: Any, host: str, port: int, **options: Any) -> None:
    """Serve ``app`` with uvicorn on a socket of its own bound with :func:`bind_shared_port`.

    ``options`` are passed to ``uvicorn.Config``. Returns when uvicorn has shut down after SIGTERM
    or SIGINT.
    """
    import uvicorn

    listener = bind_shared_port(host, port)
    server = uvicorn.Server(uvicorn.Config(app, **options))
    server.run(sockets=[listener])


def run_processes(target: Callable[..., None], args: tuple[Any, ...], count: int,
                  on_exit: Callable[[int], None] | None = None) -> None:
    """Run ``target(*args)`` in ``count`` spawned processes until SIGTERM or SIGINT, restarting any that ends.

    ``target`` must be importable by name (a module-level function), and ``args`` must
    be picklable. On SIGTERM or SIGINT every process gets SIGTERM and up to ``STOP_SECONDS`` to
    finish. A process that ends by itself is started again, unless ``MAX_FAST_EXITS`` processes in a
    row ended within ``FAST_EXIT_SECONDS`` of their start: then every process is stopped.
    ``on_exit`` is called with the id of each process that has ended.

    Raises:
        ServerProcessesFailed: the processes kept ending right after they started.
    """
    stopping = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)}
    processes: dict[int, tuple[BaseProcess, float]] = {}
    fast_exits = 0
    try:
        for slot in range(count):
            processes[slot] = _start(target, args)
        while not stopping:
            ended = wait([process.sentinel for process, _ in processes.values()], timeout=0.5)
            for slot, (process, started) in list(processes.items()):
                if stopping or process.sentinel not in ended:
                    continue
                process.join()
                if on_exit is not None and process.pid is not None:
                    on_exit(process.pid)
                lived = time.monotonic() - started
                fast_exits = fast_exits + 1 if lived < FAST_EXIT_SECONDS else 0
                logger.warning("server process %d ended with code %s after %.1f s", process.pid,
                               process.exitcode, lived)
                if fast_exits >= MAX_FAST_EXITS:
                    raise ServerProcessesFailed(
                        f"{fast_exits} server processes in a row ended within {FAST_EXIT_SECONDS:.0f} s of "
                        f"starting (last exit code {process.exitcode}); see the log above for the cause."
                    )
                processes[slot] = _start(target, args)
    finally:
        stopped = [process for process, _ in processes.values()]
        _stop_all(stopped)
        for process in stopped:
            if on_exit is not None and process.pid is not None:
                on_exit(process.pid)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _start(target: Callable[..., None], args: tuple[Any, ...]) -> tuple[BaseProcess, float]:
    return spawn(target, args), time.monotonic()


def spawn(target: Callable[..., None], args: tuple[Any, ...]) -> BaseProcess:
    """Start ``target(*args)`` in a spawned process that gets SIGTERM when this process ends (Linux)."""
    process = _CONTEXT.Process(target=_run_child, args=(os.getpid(), target, args), daemon=False)
    process.start()
    return process


def _run_child(supervisor: int, target: Callable[..., None], args: tuple[Any, ...]) -> None:
    """Run ``target(*args)`` after requesting SIGTERM for when the supervisor ends; return at once if it has."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != supervisor:  # it ended before the request above took effect
        return
    target(*args)


def _stop_all(processes: list[BaseProcess]) -> None:
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    for process in processes:
        process.join(max(deadline - time.monotonic(), 0))
        if process.is_alive():
            logger.warning("server process %d did not stop in %.0f s; killing it", process.pid, STOP_SECONDS)
            process.kill()
            process.join()
