"""Password login to the SFTP inbox."""

from __future__ import annotations

import logging
import stat

import paramiko
import pytest

from .conftest import Inbox


def test_login_succeeds_and_creates_area(inbox: Inbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bolletta.platform.sftp")

    with inbox.client("acme-upload") as sftp:
        assert sftp.listdir("/") == []

    area = inbox.area("acme")
    assert area.is_dir()
    assert stat.S_IMODE(area.stat().st_mode) == 0o700
    assert "SFTP login succeeded for user 'acme-upload' (tenant acme)" in caplog.text
    assert "correct horse" not in caplog.text


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("acme-upload", "wrong password"),
        ("nobody", "correct horse"),
        ("broken-callback", "anything"),
        ("bad-slug", "anything"),
    ],
)
def test_login_fails(inbox: Inbox, caplog: pytest.LogCaptureFixture, username: str, password: str) -> None:
    caplog.set_level(logging.INFO, logger="bolletta.platform.sftp")

    with pytest.raises(paramiko.AuthenticationException), inbox.client(username, password):
        pass

    assert f"SFTP login failed for user {username!r}" in caplog.text
    assert password not in caplog.text
    assert sorted(path.name for path in inbox.root.iterdir()) == []
    assert not (inbox.base_dir / "evil").exists()


def test_login_failure_keeps_server_running(inbox: Inbox) -> None:
    with pytest.raises(paramiko.AuthenticationException), inbox.client("broken-callback", "anything"):
        pass

    with inbox.client("acme-upload") as sftp:
        assert sftp.listdir("/") == []


def test_session_offers_no_shell(inbox: Inbox) -> None:
    with inbox.client("acme-upload") as sftp:
        transport = sftp.get_channel().get_transport()
        channel = transport.open_session(timeout=5)
        with pytest.raises(paramiko.SSHException):
            channel.exec_command("id")
