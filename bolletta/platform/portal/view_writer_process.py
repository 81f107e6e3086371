"""The process that writes the page views of ``bolletta serve --processes N``.

A server process that writes its own views does it from a thread. While that thread builds the rows
and talks to the database, it keeps the interpreter lock, and every request in flight in the process
waits. These pauses come a few times a second and each delays about a dozen requests, enough to make
up the slowest percent. So the supervisor starts one more process for the views. The server processes send their
batches to it over a UNIX socket (:mod:`view_relay`) and go back to serving; it stores them with
:class:`~bolletta.platform.portal.view_events.ViewWriter`, at a lower CPU priority than the servers.

The socket lives in a new private folder under the system's temporary folder (the data folder's path
may be too long for a socket address), named with the supervisor's process id. The folders of
supervisors killed before they removed theirs are removed at the next start
(:mod:`bolletta.platform.web.run_folders`). A server that cannot reach the writer (starting,
restarting, given up) writes its views itself. On SIGTERM the writer reads what its connections still carry and
writes everything it has received. If it is killed (SIGKILL, a crash), the views it has received but
not committed are lost: the batches of about the last half second under load, more if it hung.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from multiprocessing.process import BaseProcess
from pathlib import Path

import msgspec

from bolletta.platform.portal import view_metrics, view_relay
from bolletta.platform.portal.view_events import PageView, ViewWriter
from bolletta.platform.web import run_folders

logger = logging.getLogger(__name__)

NICENESS = 10
"""Added to the writer's nice value: when the CPUs are busy, pages come before recording their views."""
STOP_SECONDS = 30.0
DRAIN_SECONDS = 5.0
"""Time each connection gets after a stop to deliver the frames still on their way."""
FAST_EXIT_SECONDS = 10.0
MAX_FAST_EXITS = 3
"""Failed starts in a row after which the writer is not started again, and the servers write their views."""

_decoder = msgspec.msgpack.Decoder(list[PageView])


def run(path: str, log_level: int) -> None:
    """Receive views on the UNIX socket ``path`` and write them, until SIGTERM or SIGINT (the process's target)."""
    from bolletta.platform import runtime
    from bolletta.platform.logs import configure_logging
    from bolletta.platform.settings import load_settings

    os.environ.pop(view_relay.SOCKET_VARIABLE, None)
    settings = load_settings()
    configure_logging(log_level, settings.log_format)
    os.nice(NICENESS)
    rt = runtime.configure(settings)
    try:
        asyncio.run(_serve(ViewWriter(rt, role=view_metrics.VIEW_WRITER), path))
    finally:
        rt.db.close()


async def _serve(writer: ViewWriter, path: str) -> None:
    """Receive and write views until SIGTERM or SIGINT, then read what the connections still carry and write it.

    A stop can arrive while frames wait unread in a connection's socket buffer, so each connection
    gets up to :data:`DRAIN_SECONDS` to reach its end (the server processes stop before the writer).
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    connections: set[asyncio.Task[None]] = set()
    Path(path).unlink(missing_ok=True)
    server = await asyncio.start_unix_server(partial(_receive, writer, connections), path=path)
    logger.info("page view writer %d listening on %s", os.getpid(), path)
    view_metrics.WRITER_STARTS.inc()
    view_metrics.WRITER_UP.set(1)
    await stop.wait()
    view_metrics.WRITER_UP.set(0)

    server.close()
    if connections:
        _done, open_connections = await asyncio.wait(set(connections), timeout=DRAIN_SECONDS)
        for task in open_connections:
            task.cancel()
        await asyncio.gather(*open_connections, return_exceptions=True)
    await writer.flush()


async def _receive(writer: ViewWriter, connections: set[asyncio.Task[None]], reader: asyncio.StreamReader,
                   stream: asyncio.StreamWriter) -> None:
    """Queue the views of each frame one server process sends, until it closes the connection."""
    task = asyncio.current_task()
    assert task is not None  # the stream server runs each connection as a task
    connections.add(task)
    try:
        while True:
            size = int.from_bytes(await reader.readexactly(view_relay.HEADER_BYTES), "big")
            if size > view_relay.MAX_FRAME_BYTES:
                logger.error("page view frame of %d bytes is over the %d-byte limit: closing the connection", size,
                             view_relay.MAX_FRAME_BYTES)
                return
            for view in _decoder.decode(await reader.readexactly(size)):
                writer.record(view)
    except asyncio.IncompleteReadError:
        return
    except msgspec.DecodeError as exc:
        logger.error("invalid page view frame (%s): closing the connection", exc)
    except asyncio.CancelledError:
        # Only at a stop, after DRAIN_SECONDS: the frames read so far are queued and get written.
        logger.warning("page view connection still open %.0f s after the stop: closing it", DRAIN_SECONDS)
    finally:
        connections.discard(task)
        stream.close()


class _Keeper:
    """Starts the writer process, starts it again when it ends, and stops it."""

    def __init__(self, path: str, log_level: int, on_exit: Callable[[int], None] | None = None) -> None:
        self.path = path
        self.log_level = log_level
        self.on_exit = on_exit
        """Called with the id of each writer process that ended, like ``run_processes``'s ``on_exit``."""
        self.stopping = threading.Event()
        self.process: BaseProcess | None = None
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._keep, name="view-writer-keeper", daemon=True)

    def _start(self) -> BaseProcess | None:
        from bolletta.platform.web.server import spawn

        with self.lock:
            if self.stopping.is_set():
                return None
            self.process = spawn(run, (self.path, self.log_level))
            return self.process

    def _keep(self) -> None:
        fast_exits = 0
        while (process := self._start()) is not None:
            started = time.monotonic()
            process.join()
            if self.on_exit is not None and process.pid is not None:
                self.on_exit(process.pid)
            if self.stopping.is_set():
                return
            lived = time.monotonic() - started
            fast_exits = fast_exits + 1 if lived < FAST_EXIT_SECONDS else 0
            logger.warning("page view writer %d ended with code %s after %.1f s", process.pid, process.exitcode, lived)
            if fast_exits >= MAX_FAST_EXITS:
                logger.error("page view writer ended %d times in a row right after starting: the server "
                             "processes write their views themselves until bolletta serve restarts. The "
                             "writer's error is logged above.", fast_exits)
                return

    def stop(self) -> None:
        """Send the writer SIGTERM and wait for it, killing it after ``STOP_SECONDS``.

        Only the keeper thread joins the process. A second join from this thread could reap it first
        and leave the other with a process that looks alive, to be killed by a pid that may be reused.
        """
        with self.lock:
            self.stopping.set()
            process = self.process
        if process is not None:
            process.terminate()
        self.thread.join(STOP_SECONDS)
        if self.thread.is_alive() and process is not None:
            logger.warning("page view writer %d did not stop in %.0f s: killing it", process.pid, STOP_SECONDS)
            process.kill()
            self.thread.join()


@contextmanager
def running(log_level: int, on_exit: Callable[[int], None] | None = None) -> Iterator[str]:
    """Run the view writer process for the server processes started in the block; yield its socket's path.

    Stop the server processes before the block ends: the writer then stores what they sent last.
    ``on_exit`` is called with the id of each writer process that ended.
    """
    temporary = Path(tempfile.gettempdir())
    run_folders.remove_stale(temporary, run_folders.VIEWS_FOLDER)
    folder = Path(tempfile.mkdtemp(prefix=f"bolletta-views-{os.getpid()}-", dir=temporary))
    lock = run_folders.claim(folder)
    path = str(folder / "views.sock")
    previous = os.environ.get(view_relay.SOCKET_VARIABLE)
    os.environ[view_relay.SOCKET_VARIABLE] = path
    keeper = _Keeper(path, log_level, on_exit)
    keeper.thread.start()
    try:
        yield path
    finally:
        keeper.stop()
        if previous is None:
            os.environ.pop(view_relay.SOCKET_VARIABLE, None)
        else:
            os.environ[view_relay.SOCKET_VARIABLE] = previous
        shutil.rmtree(folder, ignore_errors=True)
        os.close(lock)
