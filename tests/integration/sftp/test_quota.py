"""Per-tenant quota of the SFTP area."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import Inbox, running_inbox

QUOTA_BYTES = 1000


def _quota(tenant: str) -> int | None:
    return QUOTA_BYTES if tenant == "acme" else None


@pytest.fixture
def limited_inbox(tmp_path: Path) -> Iterator[Inbox]:
    with running_inbox(tmp_path, quota_for=_quota) as inbox:
        yield inbox


def test_upload_within_quota_stored(limited_inbox: Inbox) -> None:
    with limited_inbox.client() as sftp, sftp.open("a.zip", "wb") as handle:
        handle.write(b"x" * QUOTA_BYTES)

    assert (limited_inbox.area("acme") / "a.zip").stat().st_size == QUOTA_BYTES
    assert len(limited_inbox.uploads.snapshot()) == 1


def test_upload_past_quota_rejected(limited_inbox: Inbox) -> None:
    with limited_inbox.client() as sftp:
        with sftp.open("a.zip", "wb") as handle:
            handle.write(b"x" * 600)

        with pytest.raises(OSError, match="Quota exceeded") as raised, sftp.open("b.zip", "wb") as handle:
            handle.write(b"y" * 300)
            handle.write(b"y" * 300)

        assert "holds at most 1000 bytes, 600 bytes are in use and this upload has 600 bytes" in str(raised.value)
        assert sftp.listdir("/") == ["a.zip"]

    assert limited_inbox.partial_files("acme") == []
    assert [call[2] for call in limited_inbox.uploads.snapshot()] == ["a.zip"]


def test_rejected_name_can_be_sent_again(limited_inbox: Inbox) -> None:
    with limited_inbox.client() as sftp:
        with pytest.raises(OSError, match="Quota exceeded"), sftp.open("a.zip", "wb") as handle:
            handle.write(b"x" * (QUOTA_BYTES + 1))

        with sftp.open("a.zip", "wb") as handle:
            handle.write(b"x" * 10)

    assert (limited_inbox.area("acme") / "a.zip").read_bytes() == b"x" * 10


def test_replaced_file_not_counted(limited_inbox: Inbox) -> None:
    with limited_inbox.client() as sftp:
        with sftp.open("a.zip", "wb") as handle:
            handle.write(b"x" * 700)
        with sftp.open("a.zip", "wb") as handle:
            handle.write(b"y" * 900)

    assert (limited_inbox.area("acme") / "a.zip").read_bytes() == b"y" * 900


def test_concurrent_uploads_checked_on_close(limited_inbox: Inbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bolletta.platform.sftp")
    with limited_inbox.client() as first, limited_inbox.client() as second:
        first_handle = first.open("a.zip", "wb")
        second_handle = second.open("b.zip", "wb")
        first_handle.write(b"x" * 600)
        second_handle.write(b"y" * 600)
        first_handle.flush()
        second_handle.flush()

        first_handle.close()
        # paramiko's client ignores a failed CLOSE, so the result shows on the server side only.
        second_handle.close()

    assert sorted(path.name for path in limited_inbox.area("acme").iterdir()) == ["a.zip"]
    assert limited_inbox.partial_files("acme") == []
    assert [call[2] for call in limited_inbox.uploads.snapshot()] == ["a.zip"]
    assert "SFTP upload rejected on close: tenant acme, file 'b.zip': Quota exceeded" in caplog.text


def test_other_tenant_without_quota(limited_inbox: Inbox) -> None:
    with limited_inbox.client("beta-upload") as sftp, sftp.open("big.zip", "wb") as handle:
        handle.write(b"z" * (QUOTA_BYTES * 3))

    assert (limited_inbox.area("beta") / "big.zip").stat().st_size == QUOTA_BYTES * 3
