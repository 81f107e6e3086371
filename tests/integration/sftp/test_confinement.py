"""Each session stays inside its tenant's area, whatever path form the client sends."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from .conftest import Inbox


def files_under(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


@pytest.fixture
def outside(inbox: Inbox) -> Path:
    """A folder next to the inbox root, with a file no client may read."""
    folder = inbox.base_dir / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text("secret")
    return folder


@pytest.mark.parametrize(
    "path",
    ["../../etc/passwd", "/../../etc/passwd", "../outside/secret.txt", "/../../outside/secret.txt", "..\\x"],
)
def test_read_outside_area_rejected(inbox: Inbox, outside: Path, path: str) -> None:
    with inbox.client() as sftp, pytest.raises(PermissionError):
        sftp.open(path, "rb")


def test_absolute_path_stays_in_area(inbox: Inbox) -> None:
    """``/etc/passwd`` names a file inside the area, which does not exist there."""
    with inbox.client() as sftp:
        with pytest.raises(FileNotFoundError):
            sftp.open("/etc/passwd", "rb")

        sftp.putfo(io.BytesIO(b"x"), "//etc-flow.zip")

    assert (inbox.area("acme") / "etc-flow.zip").read_bytes() == b"x"


@pytest.mark.parametrize("path", ["../escape.txt", "/../escape.txt", "/../../escape.txt", "/../beta/x.zip"])
def test_write_outside_area_rejected(inbox: Inbox, outside: Path, path: str) -> None:
    with inbox.client() as sftp:
        before = files_under(inbox.base_dir)
        with pytest.raises(PermissionError):
            sftp.putfo(io.BytesIO(b"payload"), path)

    assert files_under(inbox.base_dir) == before
    assert inbox.uploads.snapshot() == []


def test_other_operations_outside_area_rejected(inbox: Inbox, outside: Path) -> None:
    with inbox.client() as sftp:
        sftp.putfo(io.BytesIO(b"mine"), "/mine.zip")
        before = files_under(inbox.base_dir)
        with pytest.raises(PermissionError):
            sftp.stat("/../beta/x")
        with pytest.raises(PermissionError):
            sftp.listdir("/..")
        with pytest.raises(PermissionError):
            sftp.mkdir("../made")
        with pytest.raises(PermissionError):
            sftp.rename("/mine.zip", "../../outside/moved.zip")
        with pytest.raises(PermissionError):
            sftp.remove("../outside/secret.txt")
        with pytest.raises(PermissionError):
            sftp.rmdir("/")

    assert files_under(inbox.base_dir) == before
    assert (outside / "secret.txt").read_text() == "secret"


def test_symlink_creation_rejected(inbox: Inbox) -> None:
    with inbox.client() as sftp:
        with pytest.raises(OSError, match="unsupported"):
            sftp.symlink("/etc", "etc-link")
        with pytest.raises(OSError, match="unsupported"):
            sftp.symlink("../..", "up")

    assert os.listdir(inbox.area("acme")) == []


def test_operator_symlink_not_followed(inbox: Inbox, outside: Path) -> None:
    """A link left inside the area by mistake, pointing outside, leads nowhere."""
    with inbox.client() as sftp:
        os.symlink(outside, inbox.area("acme") / "link")
        os.symlink(outside / "secret.txt", inbox.area("acme") / "secret-link")

        with pytest.raises(PermissionError):
            sftp.putfo(io.BytesIO(b"payload"), "/link/newfile")
        with pytest.raises(PermissionError):
            sftp.open("/link/secret.txt", "rb")
        with pytest.raises(PermissionError):
            sftp.open("/secret-link", "rb")
        with pytest.raises(PermissionError):
            sftp.putfo(io.BytesIO(b"payload"), "/secret-link")
        with pytest.raises(PermissionError):
            sftp.listdir("/link")
        with pytest.raises(OSError, match="unsupported"):
            sftp.readlink("/link")
        assert sftp.listdir("/") == []

    assert sorted(os.listdir(outside)) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == "secret"


def test_normalize_shows_area_as_root(inbox: Inbox) -> None:
    with inbox.client() as sftp:
        assert sftp.normalize(".") == "/"
        assert sftp.normalize("/../..") == "/"
        assert sftp.normalize("a//b/../c") == "/a/c"


def test_tenants_cannot_see_each_other(inbox: Inbox) -> None:
    with inbox.client("acme-upload") as sftp:
        sftp.putfo(io.BytesIO(b"acme flow"), "/acme.zip")

    with inbox.client("beta-upload") as sftp:
        assert sftp.listdir("/") == []
        with pytest.raises(FileNotFoundError):
            sftp.stat("/acme.zip")
        with pytest.raises(PermissionError):
            sftp.stat("/../acme/acme.zip")
        with pytest.raises(PermissionError):
            sftp.open("../acme/acme.zip", "rb")
        sftp.putfo(io.BytesIO(b"beta flow"), "/acme.zip")

    assert (inbox.area("acme") / "acme.zip").read_bytes() == b"acme flow"
    assert (inbox.area("beta") / "acme.zip").read_bytes() == b"beta flow"
    assert [(tenant, relative) for tenant, _, relative in inbox.uploads.snapshot()] == [
        ("acme", "acme.zip"),
        ("beta", "acme.zip"),
    ]


def test_rejected_paths_are_logged(inbox: Inbox, caplog: pytest.LogCaptureFixture) -> None:
    with inbox.client() as sftp, pytest.raises(PermissionError):
        sftp.open("../../etc/passwd", "rb")

    expected = "SFTP open rejected: tenant acme: path '../../etc/passwd' climbs above the area root"
    assert expected in caplog.text


def test_session_error_does_not_leak_server_paths(inbox: Inbox) -> None:
    with inbox.client() as sftp, pytest.raises(PermissionError) as error:
        sftp.open("../../etc/passwd", "rb")

    assert str(inbox.root) not in str(error.value)


def test_client_sees_no_partial_folder(inbox: Inbox) -> None:
    with inbox.client() as sftp, sftp.open("/flow.zip", "wb") as remote:
        remote.write(b"partial")
        remote.flush()
        assert sftp.listdir("/") == []
        with pytest.raises(PermissionError):
            sftp.listdir("/../.partial/acme")

