"""Public-key login to the SFTP inbox."""

from __future__ import annotations

import logging

import paramiko
import pytest

from .conftest import ACME_KEY, BETA_KEY, Inbox, generate_key, open_transport


class ForgedKey(paramiko.Ed25519Key):
    """A client key that presents ``public``'s public key but signs with ``signer``."""

    def __init__(self, public: paramiko.PKey, signer: paramiko.PKey) -> None:
        self.public_blob = None
        self._public = public
        self._signer = signer

    def asbytes(self) -> bytes:
        return self._public.asbytes()

    def get_name(self) -> str:
        return self._public.get_name()

    def sign_ssh_data(self, data: bytes, algorithm: str | None = None) -> paramiko.Message:
        return self._signer.sign_ssh_data(data, algorithm)


def test_key_login_opens_own_area(inbox: Inbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bolletta.platform.sftp")
    inbox.area("acme").mkdir(parents=True)
    (inbox.area("acme") / "flusso.zip").write_bytes(b"zip")

    with inbox.client("acme-upload", key=ACME_KEY) as sftp:
        assert sftp.listdir("/") == ["flusso.zip"]

    assert "SFTP login succeeded for user 'acme-upload' (tenant acme) from 127.0.0.1" in caplog.text
    assert f"by public key {ACME_KEY.fingerprint}" in caplog.text


def test_key_of_other_account_rejected(inbox: Inbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bolletta.platform.sftp")

    with pytest.raises(paramiko.AuthenticationException), inbox.client("acme-upload", key=BETA_KEY):
        pass

    assert f"key ssh-ed25519 {BETA_KEY.fingerprint} is not registered" in caplog.text
    assert not inbox.area("acme").exists()
    assert not inbox.area("beta").exists()


def test_unknown_key_rejected(inbox: Inbox) -> None:
    with pytest.raises(paramiko.AuthenticationException), inbox.client("acme-upload", key=generate_key()):
        pass


def test_key_without_private_part_rejected(inbox: Inbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bolletta.platform.sftp")
    forged = ForgedKey(ACME_KEY, generate_key())

    transport = open_transport(inbox.server.port, inbox.host_key_path)
    try:
        with pytest.raises(paramiko.AuthenticationException):
            transport.auth_publickey("acme-upload", forged)
        assert not transport.is_authenticated()
        with pytest.raises(paramiko.SSHException):
            transport.open_session(timeout=5)
    finally:
        transport.close()

    assert "SFTP login succeeded" not in caplog.text
    assert not inbox.area("acme").exists()


def test_password_after_key_still_works(inbox: Inbox) -> None:
    transport = open_transport(inbox.server.port, inbox.host_key_path)
    try:
        with pytest.raises(paramiko.AuthenticationException):
            transport.auth_publickey("acme-upload", generate_key())
        transport.auth_password("acme-upload", "correct horse")
        sftp = paramiko.SFTPClient.from_transport(transport)
        assert sftp is not None
        assert sftp.listdir("/") == []
    finally:
        transport.close()
