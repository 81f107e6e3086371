"""What common clients do around an upload: check it after close, set its times, upload to a temporary name."""

from __future__ import annotations

import io
import os
import time

import paramiko
import pytest

from bolletta.platform.sftp.taken import TakenFiles

from .conftest import Inbox, wait_until

FLOW = os.urandom(70_000)


def test_put_confirm_after_file_taken(inbox: Inbox, tmp_path: os.PathLike[str]) -> None:
    inbox.uploads.takes_files = True
    local = os.path.join(tmp_path, "2026-11.zip")
    with open(local, "wb") as file:
        file.write(FLOW)

    with inbox.client() as sftp:
        # confirm=True (the default) stats the file after close and compares the size.
        attributes = sftp.put(local, "/2026-11.zip")
        assert attributes.st_size == len(FLOW)
        assert sftp.stat("/2026-11.zip").st_size == len(FLOW)
        assert sftp.lstat("/2026-11.zip").st_size == len(FLOW)
        assert "2026-11.zip" not in sftp.listdir("/")

    assert [call[2] for call in inbox.uploads.snapshot()] == ["2026-11.zip"]
    assert not (inbox.area("acme") / "2026-11.zip").exists()


def test_set_times_after_file_taken(inbox: Inbox) -> None:
    inbox.uploads.takes_files = True
    with inbox.client() as sftp:
        sftp.putfo(io.BytesIO(FLOW), "/flusso.zip")
        sftp.utime("/flusso.zip", (1_700_000_000, 1_700_000_000))
        sftp.chmod("/flusso.zip", 0o644)
        # WinSCP may remove the old file before renaming a new upload over it.
        sftp.remove("/flusso.zip")
        with pytest.raises(FileNotFoundError):
            sftp.stat("/flusso.zip")
        with pytest.raises(FileNotFoundError):
            sftp.utime("/never-sent.zip", (1_700_000_000, 1_700_000_000))


def test_taken_file_is_known_only_to_its_session(inbox: Inbox) -> None:
    inbox.uploads.takes_files = True
    with inbox.client() as sftp:
        sftp.putfo(io.BytesIO(FLOW), "/flusso.zip")
    with inbox.client() as sftp, pytest.raises(FileNotFoundError):
        sftp.stat("/flusso.zip")


def test_taken_files_are_forgotten_after_their_time() -> None:
    now = [100.0]
    taken = TakenFiles(seconds=60, now=lambda: now[0])
    attributes = paramiko.SFTPAttributes()
    attributes.st_size = 3
    taken.remember("a.zip", attributes)
    now[0] = 159.9
    assert taken.recall("a.zip") is attributes
    now[0] = 160.0
    assert taken.recall("a.zip") is None


@pytest.mark.parametrize("suffix", [".part", ".tmp", ".filepart"])
@pytest.mark.parametrize("posix", [False, True])
def test_upload_to_temporary_name_then_rename_is_reported(inbox: Inbox, suffix: str, posix: bool) -> None:
    with inbox.client() as sftp:
        sftp.mkdir("/flows")
        sftp.putfo(io.BytesIO(FLOW), f"/flows/a2.zip{suffix}")
        (sftp.posix_rename if posix else sftp.rename)(f"/flows/a2.zip{suffix}", "/flows/a2.zip")

    area = inbox.area("acme")
    assert [call[2] for call in inbox.uploads.snapshot()] == [f"flows/a2.zip{suffix}", "flows/a2.zip"]
    assert inbox.uploads.snapshot()[-1] == ("acme", area / "flows" / "a2.zip", "flows/a2.zip")
    assert (area / "flows" / "a2.zip").read_bytes() == FLOW


def test_rename_then_stat_of_taken_file(inbox: Inbox) -> None:
    inbox.uploads.takes_files = False
    with inbox.client() as sftp:
        sftp.putfo(io.BytesIO(FLOW), "/a2.zip.filepart")
        inbox.uploads.takes_files = True
        sftp.rename("/a2.zip.filepart", "/a2.zip")
        sftp.utime("/a2.zip", (1_700_000_000, 1_700_000_000))
        assert sftp.stat("/a2.zip").st_size == len(FLOW)
        with pytest.raises(FileNotFoundError):
            sftp.stat("/a2.zip.filepart")

    assert [call[2] for call in inbox.uploads.snapshot()] == ["a2.zip.filepart", "a2.zip"]
    assert not (inbox.area("acme") / "a2.zip").exists()


def test_rename_of_open_upload_is_reported_on_close(inbox: Inbox) -> None:
    with inbox.client() as sftp:
        remote = sftp.open("/a2.zip.part", "wb")
        remote.write(FLOW[:1000])
        remote.flush()
        sftp.posix_rename("/a2.zip.part", "/a2.zip")
        remote.write(FLOW[1000:])
        remote.flush()
        time.sleep(0.1)
        assert inbox.uploads.snapshot() == []
        remote.close()

    area = inbox.area("acme")
    assert inbox.uploads.snapshot() == [("acme", area / "a2.zip", "a2.zip")]
    assert (area / "a2.zip").read_bytes() == FLOW
    assert not (area / "a2.zip.part").exists()
    assert inbox.partial_files("acme") == []


def test_rename_of_open_upload_then_drop_stores_nothing(inbox: Inbox) -> None:
    with inbox.client() as sftp:
        remote = sftp.open("/a2.zip.part", "wb")
        remote.write(FLOW[:1000])
        remote.flush()
        sftp.posix_rename("/a2.zip.part", "/a2.zip")
        # The session ends with the file still open: the upload is aborted.

    assert wait_until(lambda: inbox.partial_files("acme") == [])
    assert inbox.uploads.snapshot() == []
    assert not (inbox.area("acme") / "a2.zip").exists()
