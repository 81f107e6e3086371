"""Mail catcher: a local SMTP server that keeps every message it receives instead of relaying it.

The demo points the ``smtp`` channel and staff notifications at it, and tests read what arrived.
It accepts every sender and recipient without authentication, so bind it to loopback only.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller

logger = logging.getLogger(__name__)

# aiosmtpd logs each SMTP command at info level on "mail.log", recipients' addresses included.
logging.getLogger("mail.log").setLevel(logging.WARNING)


@dataclass(frozen=True)
class CaughtMail:
    """One message the catcher received."""

    mail_from: str
    """Envelope sender (``MAIL FROM``)."""

    recipients: tuple[str, ...]
    """Envelope recipients (``RCPT TO``), in the order the client sent them."""

    message: EmailMessage
    """The message parsed with the standard library's default policy, with LF line endings."""

    raw: bytes
    """The message exactly as received after ``DATA``, with CRLF line endings."""


def _parse(raw: bytes) -> EmailMessage:
    # SMTP carries CRLF line endings, which the parser would keep inside each part's content.
    parsed = BytesParser(policy=policy.default).parsebytes(raw.replace(b"\r\n", b"\n"))
    assert isinstance(parsed, EmailMessage)
    return parsed


def _stored_mail(raw: bytes) -> CaughtMail:
    message = _parse(raw)
    senders = getaddresses([str(message.get("From", ""))])
    recipients = tuple(address for _name, address in getaddresses([str(message.get("To", ""))]) if address)
    return CaughtMail(mail_from=senders[0][1] if senders else "", recipients=recipients, message=message, raw=raw)


def _highest_file_number(folder: Path) -> int:
    """Return the highest ``<n>`` of the ``<n>.eml`` files in ``folder``, 0 when there is none."""
    numbers = [int(path.stem) for path in folder.glob("*.eml") if path.stem.isdigit()]
    return max(numbers, default=0)


class _LoopbackController(Controller):
    """aiosmtpd controller that can listen on port 0 and then reports the port the system chose."""

    def _trigger_server(self) -> None:
        # NOTE: aiosmtpd 1.4.6 opens a test connection to (hostname, port) during start(), which
        # fails for port 0. By this point the server is bound, so read the chosen port first.
        if self.port == 0 and isinstance(self.server, asyncio.Server):
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class MailCatcher:
    """Local SMTP server that stores received messages in memory and optionally as ``.eml`` files.

    It is also the aiosmtpd handler, so a test can subclass it and add hooks such as
    ``handle_RCPT`` to simulate a server that rejects recipients.

    Args:
        host: Address to listen on; keep it on loopback.
        port: TCP port; 0 lets the system choose a free one, read it from :attr:`port` after
            :meth:`start`.
        store_dir: Folder where each message is also written as ``<n>.eml``, numbered on after the
            highest number already there (``1.eml`` in an empty folder), so a restart keeps earlier
            mail; created if missing. ``None`` keeps messages in memory only.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, store_dir: Path | None = None) -> None:
        self.host = host
        self.store_dir = store_dir
        self._requested_port = port
        self._messages: list[CaughtMail] = []
        self._condition = threading.Condition()
        self._controller: _LoopbackController | None = None
        self._next_file_number = 1

    @property
    def port(self) -> int:
        """Port the server listens on; the requested port until :meth:`start` has run."""
        if self._controller is None:
            return self._requested_port
        return int(self._controller.port)

    @property
    def messages(self) -> list[CaughtMail]:
        """A copy of the messages received so far, oldest first."""
        with self._condition:
            return list(self._messages)

    def start(self) -> None:
        """Start listening in a background thread; returns once the server accepts connections.

        Raises:
            RuntimeError: the catcher is already running.
            OSError: the port cannot be bound.
        """
        if self._controller is not None:
            raise RuntimeError("mail catcher is already running; call stop() first")
        if self.store_dir is not None:
            self.store_dir.mkdir(parents=True, exist_ok=True)
            self._next_file_number = _highest_file_number(self.store_dir) + 1

        controller = _LoopbackController(
            self, hostname=self.host, port=self._requested_port, server_hostname="mail-catcher.localhost"
        )
        controller.start()
        self._controller = controller
        logger.info("mail catcher listening host=%s port=%d", self.host, self.port)

    def stop(self) -> None:
        """Stop the server; the messages received stay readable. Does nothing when not running."""
        if self._controller is None:
            return
        port = self.port
        self._controller.stop()
        self._controller = None
        logger.info("mail catcher stopped host=%s port=%d", self.host, port)

    def stored_messages(self) -> list[CaughtMail]:
        """Return every message in :attr:`store_dir`, earlier runs' included, in file-number order.

        The envelope is not stored, so ``mail_from`` and ``recipients`` come from the ``From`` and
        ``To`` headers. Without a store folder this returns :attr:`messages`.
        """
        if self.store_dir is None:
            return self.messages
        paths = sorted((path for path in self.store_dir.glob("*.eml") if path.stem.isdigit()),
                       key=lambda path: int(path.stem))
        return [_stored_mail(path.read_bytes()) for path in paths]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[CaughtMail]:
        """Block until at least ``count`` messages arrived, then return them all.

        Args:
            count: Number of messages to wait for, counted since the catcher was created.
            timeout: Maximum wait in seconds.

        Raises:
            TimeoutError: fewer than ``count`` messages arrived within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._condition:
            while len(self._messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"mail catcher received {len(self._messages)} of {count} expected messages "
                        f"within {timeout} seconds"
                    )
                self._condition.wait(remaining)
            return list(self._messages)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """aiosmtpd hook: keep the message that just arrived and accept it."""
        raw: bytes = envelope.original_content or envelope.content or b""
        parsed = _parse(raw)
        caught = CaughtMail(
            mail_from=envelope.mail_from or "",
            recipients=tuple(envelope.rcpt_tos),
            message=parsed,
            raw=raw,
        )
        with self._condition:
            self._messages.append(caught)
            number = len(self._messages)
            if self.store_dir is not None:
                self._store(raw)
            self._condition.notify_all()
        logger.info("mail catcher received message number=%d size=%d", number, len(raw))
        return "250 Message accepted for delivery"

    def _store(self, raw: bytes) -> None:
        """Write ``raw`` as the next free ``<n>.eml``; a number another catcher took meanwhile is skipped."""
        assert self.store_dir is not None
        while True:
            path = self.store_dir / f"{self._next_file_number}.eml"
            self._next_file_number += 1
            try:
                with path.open("xb") as handle:
                    handle.write(raw)
                return
            except FileExistsError:
                continue

    def __enter__(self) -> MailCatcher:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
