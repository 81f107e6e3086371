"""Completed-upload detection: only an explicit CLOSE from a live session counts."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import socket

import pytest

from .conftest import Inbox, open_transport, wait_until

FLOW = os.urandom(300_000)
"""Upload content, larger than one SFTP write request so the file arrives in several pieces."""


def test_upload_calls_on_upload_once(inbox: Inbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bolletta.platform.sftp")

    with inbox.client("acme-upload") as sftp:
        sftp.mkdir("flows")
        attributes = sftp.putfo(io.BytesIO(FLOW), "/flows/2026-11.zip")

    target = inbox.area("acme") / "flows" / "2026-11.zip"
    assert attributes.st_size == len(FLOW)
    assert inbox.uploads.snapshot() == [("acme", target, "flows/2026-11.zip")]
    assert target.read_bytes() == FLOW
    assert inbox.partial_files("acme") == []
    assert hashlib.sha256(FLOW).hexdigest() in caplog.text


def test_upload_visible_only_after_close(inbox: Inbox) -> None:
    with inbox.client("acme-upload") as sftp:
        with sftp.open("/flow.zip", "wb") as remote:
            remote.write(FLOW)
            remote.flush()
            assert "flow.zip" not in sftp.listdir("/")
            assert inbox.uploads.snapshot() == []

        assert sftp.listdir("/") == ["flow.zip"]
    assert len(inbox.uploads.snapshot()) == 1


def drop_connection_mid_upload(inbox: Inbox, name: str) -> None:
    """Write half of FLOW to ``name``, then close the socket without closing the remote file."""
    transport = open_transport(inbox.server.port, inbox.host_key_path)
    transport.auth_password("acme-upload", "correct horse")
    sftp = transport.open_sftp_client()
    assert sftp is not None
    remote = sftp.open(name, "wb")
    remote.write(FLOW[: len(FLOW) // 2])
    remote.flush()
    assert wait_until(lambda: [p.stat().st_size for p in inbox.partial_files("acme")] == [len(FLOW) // 2])

    raw_socket = transport.sock
    assert isinstance(raw_socket, socket.socket)
    raw_socket.shutdown(socket.SHUT_RDWR)
    raw_socket.close()
    transport.close()


def test_dropped_upload_is_aborted(inbox: Inbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bolletta.platform.sftp")

    drop_connection_mid_upload(inbox, "/flow.zip")

    assert wait_until(lambda: "SFTP upload aborted: tenant acme, file '/flow.zip'" in caplog.text)
    assert inbox.partial_files("acme") == []
    assert inbox.uploads.snapshot() == []
    assert not (inbox.area("acme") / "flow.zip").exists()


def test_upload_after_dropped_upload_succeeds(inbox: Inbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bolletta.platform.sftp")
    drop_connection_mid_upload(inbox, "/flow.zip")
    assert wait_until(lambda: "SFTP upload aborted" in caplog.text)

    with inbox.client("acme-upload") as sftp:
        sftp.putfo(io.BytesIO(FLOW), "/flow.zip")

    target = inbox.area("acme") / "flow.zip"
    assert inbox.uploads.snapshot() == [("acme", target, "flow.zip")]
    assert target.read_bytes() == FLOW


def test_dropped_overwrite_keeps_previous_file(inbox: Inbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bolletta.platform.sftp")
    with inbox.client("acme-upload") as sftp:
        sftp.putfo(io.BytesIO(b"previous flow"), "/flow.zip")

    drop_connection_mid_upload(inbox, "/flow.zip")

    assert wait_until(lambda: "SFTP upload aborted" in caplog.text)
    assert (inbox.area("acme") / "flow.zip").read_bytes() == b"previous flow"
    assert len(inbox.uploads.snapshot()) == 1


def test_overwrite_replaces_content(inbox: Inbox) -> None:
    with inbox.client("acme-upload") as sftp:
        sftp.putfo(io.BytesIO(b"first version, longer"), "/flow.zip")
        sftp.putfo(io.BytesIO(b"second"), "/flow.zip")

    target = inbox.area("acme") / "flow.zip"
    assert target.read_bytes() == b"second"
    assert inbox.uploads.snapshot() == [("acme", target, "flow.zip"), ("acme", target, "flow.zip")]


def test_append_keeps_existing_content(inbox: Inbox) -> None:
    with inbox.client("acme-upload") as sftp:
        sftp.putfo(io.BytesIO(b"head,"), "/log.csv")
        with sftp.open("/log.csv", "ab") as remote:
            remote.write(b"tail")

    assert (inbox.area("acme") / "log.csv").read_bytes() == b"head,tail"
    assert len(inbox.uploads.snapshot()) == 2


def test_failing_on_upload_keeps_server_running(inbox: Inbox, caplog: pytest.LogCaptureFixture) -> None:
    inbox.uploads.failures_left = 1

    with inbox.client("acme-upload") as sftp:
        sftp.putfo(io.BytesIO(b"one"), "/one.zip")
    with inbox.client("acme-upload") as sftp:
        sftp.putfo(io.BytesIO(b"two"), "/two.zip")

    area = inbox.area("acme")
    assert inbox.uploads.snapshot() == [
        ("acme", area / "one.zip", "one.zip"),
        ("acme", area / "two.zip", "two.zip"),
    ]
    assert (area / "one.zip").read_bytes() == b"one"
    assert "on_upload callback failed for tenant acme, file one.zip" in caplog.text
    assert "on_upload failed on purpose" in caplog.text


def test_stop_aborts_open_uploads(inbox: Inbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bolletta.platform.sftp")
    transport = open_transport(inbox.server.port, inbox.host_key_path)
    transport.auth_password("acme-upload", "correct horse")
    sftp = transport.open_sftp_client()
    assert sftp is not None
    remote = sftp.open("/flow.zip", "wb")
    remote.write(b"partial")
    remote.flush()

    inbox.server.stop()
    transport.close()

    assert "SFTP upload aborted: tenant acme, file '/flow.zip'" in caplog.text
    assert inbox.uploads.snapshot() == []
    assert inbox.partial_files("acme") == []
