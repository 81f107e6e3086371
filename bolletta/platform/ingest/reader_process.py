"""Reading a flow in a second process while the caller stores what was already read.

:func:`iter_flow_in_process` yields what :func:`~bolletta.platform.ingest.stream.iter_flow` yields,
in the same order, and raises the same exceptions, but the reading (inflating, parsing, mapping,
matching PDFs) runs in a child process. On a machine with two CPUs the job stores one batch of
bills while the child reads the next.

The child sends its items in batches through a pipe. A batch closes after ``BATCH_ITEMS`` items, or
sooner when its PDFs reach ``BATCH_BYTES``. A thread of the caller takes the batches off the pipe
as they arrive and keeps up to ``RECEIVED_BATCHES`` of them, so the child goes on reading while the
caller stores. Without it the two processes took turns waiting for each other, because the pipe
alone buffers at most ``PIPE_BYTES``, less than one batch with PDFs. The child blocks once the caller is that many
batches behind, so memory stays a few batches whatever the archive size.

Children are forked from a ``forkserver`` process rather than from the worker, which runs several
threads (forking one of those can copy a lock another thread holds). The server starts once per
worker process and imports the readers then, so later jobs start their child in milliseconds.
Logging in the child goes to the server's stderr, not to the worker's handlers.
"""

from __future__ import annotations

import fcntl
import logging
import multiprocessing
import pickle
import queue
import resource
import threading
from collections.abc import Generator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import msgspec

from bolletta.platform.ingest.archive import ArchiveLimits
from bolletta.platform.ingest.errors import ArchiveRejected
from bolletta.platform.ingest.records import ParsedBill
from bolletta.platform.ingest.stream import FlowItem, iter_flow

logger = logging.getLogger(__name__)

PIPE_BYTES = 1024 * 1024
"""Pipe buffer asked for on Linux; 1 MiB is the default ``/proc/sys/fs/pipe-max-size``."""
BATCH_ITEMS = 100
"""Items the child sends at once; fewer messages cost less than one per bill."""
BATCH_BYTES = 4 * 1024 * 1024
"""PDF bytes after which a batch is sent before it reaches ``BATCH_ITEMS``."""
RECEIVED_BATCHES = 4
"""Maximum number of batches the caller's receiving thread keeps ahead of the caller."""
_END = b""
"""Queued by the receiving thread when the pipe has ended (the child exited or was killed)."""

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload([__name__])


class ReaderProcessDied(Exception):
    """The child process ended without sending the end of the flow (killed, or out of memory)."""


class ReaderProcessError(Exception):
    """An exception of the reading that could not be sent back as itself; ``error_name`` is its class."""

    def __init__(self, error_name: str) -> None:
        super().__init__(error_name)
        self.error_name = error_name


def iter_flow_in_process(
    archive: Path, filename: str, limits: ArchiveLimits, **options: Any
) -> Generator[FlowItem, None, None]:
    """Yield the items of ``iter_flow(archive, filename, limits, **options)`` read in a child process.

    ``options`` are the keyword arguments of ``iter_flow`` and must pickle. ``positions`` and
    ``plugins`` are rejected, because object ids do not cross processes and the child loads the
    installed plugins itself. An exception of the reading is raised here, after the items read before it.
    An exception that does not pickle arrives as a ``ReaderProcessError`` naming its class. Closing the
    iterator early ends the child.

    Raises:
        ArchiveRejected: as ``iter_flow``.
        ReaderProcessDied: the child ended without finishing the flow.
        ReaderProcessError: the reading raised an exception that does not pickle.
    """
    if "positions" in options or "plugins" in options:
        raise ValueError("iter_flow_in_process does not take positions or plugins; call iter_flow instead")
    receiving, sending = _CONTEXT.Pipe(duplex=False)
    _widen(receiving)
    process = _CONTEXT.Process(
        target=_read_and_send, args=(sending, archive, filename, limits, options), daemon=True,
        name="bolletta-flow-reader",
    )
    process.start()
    sending.close()  # the child has the only sending end now, so its death ends recv_bytes() with EOFError
    received: queue.Queue[bytes] = queue.Queue(maxsize=RECEIVED_BATCHES)
    stop = threading.Event()
    receiver = threading.Thread(target=_receive, args=(receiving, received, stop), daemon=True,
                                name="bolletta-flow-receiver")
    receiver.start()
    try:
        while True:
            message = received.get()
            if message == _END:
                process.join()
                raise ReaderProcessDied(
                    f"the flow reader process ended with exit code {process.exitcode} before the end of the flow"
                )
            # Only our child can write to this pipe.
            kind, payload = pickle.loads(message)  # noqa: S301
            if kind == "items":
                yield from _unpack(payload)
            elif kind == "error":
                raise payload
            else:
                logger.info(
                    "flow reader process finished %s: CPU %.1f s, peak RSS %.0f MB",
                    filename, payload["cpu_seconds"], payload["peak_rss_mb"],
                    extra={"reader_usage": payload},
                )
                return
    finally:
        stop.set()
        if process.is_alive():
            process.terminate()
        receiver.join()
        receiving.close()
        process.join()


def _receive(receiving: Connection, received: queue.Queue[bytes], stop: threading.Event) -> None:
    """Move messages from the pipe to ``received`` until the pipe ends or the caller stops; then queue ``_END``."""
    while not stop.is_set():
        try:
            message = receiving.recv_bytes()
        except (EOFError, OSError):
            message = _END
        while not stop.is_set():
            try:
                received.put(message, timeout=0.1)
                break
            except queue.Full:
                continue
        if message == _END:
            return


def _widen(connection: Connection) -> None:
    """Let the pipe buffer ``PIPE_BYTES``, so that the child can write a batch without waiting for the caller.

    Each wait is a switch between the processes, and on busy CPUs every switch can take a whole time slice.
    """
    if hasattr(fcntl, "F_SETPIPE_SZ"):  # Linux only
        try:
            fcntl.fcntl(connection.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        except OSError:  # above /proc/sys/fs/pipe-max-size: keep the default size
            logger.debug("the flow reader pipe keeps its default size")


def _read_and_send(sending: Connection, archive: Path, filename: str, limits: ArchiveLimits,
                   options: dict[str, Any]) -> None:
    """Run in the child: send the flow's items in batches, then ``done`` or the error that stopped it."""
    try:
        batch: list[FlowItem] = []
        pdf_bytes = 0
        for item in iter_flow(archive, filename, limits, **options):
            batch.append(item)
            if isinstance(item, ParsedBill):
                pdf_bytes += sum(len(attachment.content) for attachment in item.attachments)
            if len(batch) >= BATCH_ITEMS or pdf_bytes >= BATCH_BYTES:
                _send(sending, ("items", _pack(batch)))
                batch, pdf_bytes = [], 0
        _send(sending, ("items", _pack(batch)))
        usage = resource.getrusage(resource.RUSAGE_SELF)
        _send(sending, ("done", {
            "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "peak_rss_mb": usage.ru_maxrss / 1024,  # kilobytes on Linux
        }))
    except BrokenPipeError:
        return  # the caller stopped reading
    except Exception as exc:  # every error of the reading goes to the caller, which decides
        if not isinstance(exc, ArchiveRejected):
            logger.exception("reading %s in the flow reader process failed", filename)
        try:
            message = pickle.dumps(("error", exc), protocol=pickle.HIGHEST_PROTOCOL)
            pickle.loads(message)  # noqa: S301 (our own bytes: checks that the error unpickles too)
        except Exception:  # noqa: BLE001 (any pickling failure: send the class name instead)
            message = pickle.dumps(("error", ReaderProcessError(type(exc).__name__)))
        try:
            sending.send_bytes(message)
        except BrokenPipeError:
            return
    finally:
        sending.close()


def _send(sending: Connection, message: tuple[str, Any]) -> None:
    sending.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


_bill_encoder = msgspec.msgpack.Encoder()
_bills_decoder = msgspec.msgpack.Decoder(list[ParsedBill])
_bill_decoder = msgspec.msgpack.Decoder(ParsedBill)


def _pack(batch: list[FlowItem]) -> tuple[int, list[int], bytes, list[tuple[int, FlowItem]]]:
    """Split a batch into its bills as MessagePack and the other items, each with its position.

    Unpickling a bill rebuilds each of its structs in Python, and decoding it from MessagePack costs
    about a quarter of that. MessagePack keeps only the declared types, so a bill carrying other
    values (a ``Decimal`` in ``details``, a tuple) does not decode equal, and is pickled instead.
    """
    positions: list[int] = []
    bills: list[bytes] = []
    others: list[tuple[int, FlowItem]] = []
    for position, item in enumerate(batch):
        if isinstance(item, ParsedBill):
            encoded = _bill_encoder.encode(item)
            if _decodes_equal(encoded, item):
                positions.append(position)
                bills.append(encoded)
                continue
        others.append((position, item))
    return len(batch), positions, _join_array(bills), others


def _decodes_equal(encoded: bytes, bill: ParsedBill) -> bool:
    try:
        return bool(_bill_decoder.decode(encoded) == bill)
    except msgspec.DecodeError:
        return False


def _join_array(encoded_items: list[bytes]) -> bytes:
    """Return the MessagePack array of items already encoded, without encoding them again."""
    count = len(encoded_items)
    if count < 16:
        header = bytes([0x90 | count])
    elif count < 1 << 16:
        header = b"\xdc" + count.to_bytes(2, "big")
    else:
        header = b"\xdd" + count.to_bytes(4, "big")
    return header + b"".join(encoded_items)


def _unpack(packed: tuple[int, list[int], bytes, list[tuple[int, FlowItem]]]) -> list[FlowItem]:
    """Rebuild the batch that :func:`_pack` split, in its order."""
    count, positions, bills, others = packed
    items: list[Any] = [None] * count
    for position, bill in zip(positions, _bills_decoder.decode(bills), strict=True):
        items[position] = bill
    for position, item in others:
        items[position] = item
    return items
