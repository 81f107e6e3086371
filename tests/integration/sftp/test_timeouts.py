"""The server closes connections that do not log in in time and sessions left idle."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import CLIENT_TIMEOUT_SECONDS, Inbox, open_transport, running_inbox, wait_until

SHORT_TIMEOUT_SECONDS = 0.5


@pytest.fixture
def impatient_inbox(tmp_path: Path) -> Iterator[Inbox]:
    with running_inbox(tmp_path, auth_timeout=SHORT_TIMEOUT_SECONDS, idle_timeout=SHORT_TIMEOUT_SECONDS) as inbox:
        yield inbox


def _peer_closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(4096) == b""
    except TimeoutError:
        return False
    except OSError:
        return True


def test_silent_connection_closed(impatient_inbox: Inbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bolletta.platform.sftp")
    sock = socket.create_connection(("127.0.0.1", impatient_inbox.server.port), timeout=0.1)
    try:
        assert wait_until(lambda: _peer_closed(sock))
    finally:
        sock.close()

    assert "closed: not logged in within 0.5 s" in caplog.text


def test_connection_without_login_closed(impatient_inbox: Inbox) -> None:
    transport = open_transport(impatient_inbox.server.port, impatient_inbox.host_key_path)
    try:
        assert wait_until(lambda: not transport.is_active())
    finally:
        transport.close()


def test_idle_session_closed(impatient_inbox: Inbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bolletta.platform.sftp")
    with impatient_inbox.client() as sftp:
        assert sftp.listdir("/") == []
        transport = sftp.get_channel().get_transport()

        assert wait_until(lambda: not transport.is_active())

    assert "closed: idle for more than 0.5 s" in caplog.text


def test_busy_session_kept_open(impatient_inbox: Inbox) -> None:
    with impatient_inbox.client() as sftp:
        transport = sftp.get_channel().get_transport()
        with sftp.open("lento.zip", "wb") as handle:
            # Each write reaches the server at once, and they go on for several idle timeouts.
            handle.set_pipelined(False)
            deadline = time.monotonic() + 4 * SHORT_TIMEOUT_SECONDS
            while time.monotonic() < deadline:
                handle.write(b"x" * 100)
                handle.flush()
                time.sleep(SHORT_TIMEOUT_SECONDS / 5)
            assert transport.is_active()

    assert wait_until(lambda: (impatient_inbox.area("acme") / "lento.zip").exists(), CLIENT_TIMEOUT_SECONDS)
