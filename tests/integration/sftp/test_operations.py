"""Everyday file operations inside a tenant's area."""

from __future__ import annotations

import io
import os

import pytest

from .conftest import Inbox


def test_directories_and_listing(inbox: Inbox) -> None:
    with inbox.client() as sftp:
        sftp.mkdir("/flows")
        sftp.putfo(io.BytesIO(b"abc"), "/flows/a.zip")

        assert sftp.listdir("/") == ["flows"]
        assert sftp.listdir("/flows") == ["a.zip"]
        assert sftp.stat("/flows/a.zip").st_size == 3
        assert sftp.lstat("/flows/a.zip").st_size == 3

        with pytest.raises(OSError):
            sftp.rmdir("/flows")
        sftp.remove("/flows/a.zip")
        sftp.rmdir("/flows")
        assert sftp.listdir("/") == []

    assert os.listdir(inbox.area("acme")) == []


def test_read_back_upload(inbox: Inbox) -> None:
    with inbox.client() as sftp:
        sftp.putfo(io.BytesIO(b"0123456789"), "/a.zip")
        with sftp.open("/a.zip", "rb") as remote:
            remote.seek(4)
            assert remote.read(3) == b"456"
            assert remote.stat().st_size == 10


def test_rename_within_area(inbox: Inbox) -> None:
    with inbox.client() as sftp:
        sftp.putfo(io.BytesIO(b"one"), "/a.zip")
        sftp.putfo(io.BytesIO(b"two"), "/b.zip")

        with pytest.raises(OSError):
            sftp.rename("/a.zip", "/b.zip")
        sftp.posix_rename("/a.zip", "/b.zip")
        sftp.mkdir("/done")
        sftp.rename("/b.zip", "/done/b.zip")

        assert sftp.listdir("/") == ["done"]
    assert (inbox.area("acme") / "done" / "b.zip").read_bytes() == b"one"


def test_setstat_accepted_without_effect(inbox: Inbox) -> None:
    with inbox.client() as sftp:
        sftp.putfo(io.BytesIO(b"abc"), "/a.zip")
        sftp.chmod("/a.zip", 0o777)
        with pytest.raises(FileNotFoundError):
            sftp.chmod("/missing.zip", 0o644)

    assert (inbox.area("acme") / "a.zip").stat().st_mode & 0o777 == 0o600


def test_missing_file_not_found(inbox: Inbox) -> None:
    with inbox.client() as sftp:
        with pytest.raises(FileNotFoundError):
            sftp.open("/missing.zip", "rb")
        with pytest.raises(FileNotFoundError):
            sftp.stat("/missing.zip")
        with pytest.raises(FileNotFoundError):
            sftp.remove("/missing.zip")


def test_exclusive_create_of_existing_file_fails(inbox: Inbox) -> None:
    with inbox.client() as sftp:
        sftp.putfo(io.BytesIO(b"abc"), "/a.zip")
        with pytest.raises(OSError):
            sftp.open("/a.zip", "wxb")
        with pytest.raises(OSError):
            sftp.open("/a.zip", "xb")

    assert len(inbox.uploads.snapshot()) == 1


def test_write_to_directory_fails(inbox: Inbox) -> None:
    with inbox.client() as sftp:
        sftp.mkdir("/flows")
        with pytest.raises(OSError):
            sftp.putfo(io.BytesIO(b"abc"), "/flows")

    assert inbox.uploads.snapshot() == []
    assert inbox.partial_files("acme") == []
