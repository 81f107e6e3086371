"""The demo's SFTP client against the real server: uploads that end without a connection reset."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bolletta.platform.demo.run import upload_over_sftp

from .conftest import ACCOUNTS, running_inbox

UPLOADS = 10
"""Uploads per test. Without the half-close most uploads ended in a reset (9 of 10 in one run)."""


def test_demo_upload_logs_no_ssh_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    password = ACCOUNTS["acme-upload"][0]
    with caplog.at_level(logging.INFO), running_inbox(tmp_path) as inbox:
        for number in range(UPLOADS):
            upload_over_sftp("127.0.0.1", inbox.server.port, "acme-upload", password, f"flow-{number}.zip",
                             b"PK" * 50_000)
    # The server has stopped and joined its transports' threads, so every record they log is in.

    ssh_errors = [record.getMessage() for record in caplog.records
                  if record.name.startswith("paramiko") and record.levelno >= logging.ERROR]
    assert ssh_errors == []
    assert len(inbox.uploads.snapshot()) == UPLOADS
