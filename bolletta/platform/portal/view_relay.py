"""Handing a server process's page views to the view writer process over a UNIX socket.

Under ``bolletta serve --processes N`` the supervisor starts a process that writes the page views
(:mod:`view_writer_process`) and names its socket in :data:`SOCKET_VARIABLE`. Each batch goes as
one frame: its length as four big-endian bytes, then the views as a MessagePack array.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence
from typing import Any

import msgspec

logger = logging.getLogger(__name__)

SOCKET_VARIABLE = "BOLLETTA_VIEW_WRITER_SOCKET"
HEADER_BYTES = 4
MAX_FRAME_BYTES = 64 * 1024 * 1024
"""Frame size above which the writer closes the connection: no server process sends that much."""

_encoder = msgspec.msgpack.Encoder()


def frame(views: Sequence[Any]) -> bytes:
    """Return ``views`` (page views, dataclasses) encoded as one frame."""
    payload = _encoder.encode(views)
    return len(payload).to_bytes(HEADER_BYTES, "big") + payload


class Relay:
    """One event loop's connection to the view writer process, opened on first use and after a failure."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.stream: asyncio.StreamWriter | None = None
        self.failing = False
        """Whether the last send failed, so an outage is logged once and its end once."""

    async def send(self, views: Sequence[Any]) -> bool:
        """Send ``views`` and return ``True``, or ``False`` when the writer is unreachable (the caller stores them).

        Waits while the socket's buffer is full (the writer is behind). That holds back the caller's
        next batch, never a request.
        """
        data = frame(views)
        try:
            if self.stream is None:
                _, self.stream = await asyncio.open_unix_connection(self.path)
            self.stream.write(data)
            await self.stream.drain()
        except OSError as exc:
            self.close()
            if not self.failing:
                logger.warning("page view writer unreachable at %s (%s): server process %d writes its views itself",
                               self.path, exc, os.getpid())
            self.failing = True
            return False
        if self.failing:
            logger.info("page view writer reachable again")
            self.failing = False
        return True

    def close(self) -> None:
        """Close the connection; the next send opens a new one."""
        if self.stream is not None:
            self.stream.close()
            self.stream = None


def from_environment() -> Relay | None:
    """Return a relay to the socket named in :data:`SOCKET_VARIABLE`, or ``None`` when it is not set."""
    path = os.environ.get(SOCKET_VARIABLE)
    return Relay(path) if path else None
