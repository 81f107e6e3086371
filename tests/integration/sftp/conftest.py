"""A real SFTP inbox server on 127.0.0.1 and helpers to reach it with paramiko's own client."""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paramiko
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from bolletta.platform.sftp.server import SftpServer

CLIENT_TIMEOUT_SECONDS = 5.0
WAIT_TIMEOUT_SECONDS = 5.0

ACCOUNTS = {
    "acme-upload": ("correct horse", "acme"),
    "beta-upload": ("battery staple", "beta"),
}
"""SFTP accounts of the test server: user name to password and tenant slug."""


def generate_key() -> paramiko.Ed25519Key:
    """Return a new Ed25519 private key as paramiko loads it."""
    pem = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption())
    return paramiko.Ed25519Key.from_private_key(io.StringIO(pem.decode()))


ACME_KEY = generate_key()
BETA_KEY = generate_key()
ACCOUNT_KEYS = {"acme-upload": ACME_KEY, "beta-upload": BETA_KEY}
"""The public key registered for each SFTP account of the test server."""


def wait_until(condition: Callable[[], bool], timeout: float = WAIT_TIMEOUT_SECONDS) -> bool:
    """Poll ``condition`` until it is true or ``timeout`` seconds pass, and return its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


@dataclass
class UploadRecorder:
    """An ``on_upload`` callback that records each call and can be made to raise."""

    calls: list[tuple[str, Path, str]] = field(default_factory=list)
    failures_left: int = 0
    takes_files: bool = False
    """Remove each reported file from the area, as the inbox does when it opens a job."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, tenant: str, path: Path, relative_path: str) -> None:
        with self.lock:
            self.calls.append((tenant, path, relative_path))
            if self.takes_files:
                path.unlink()
            if self.failures_left > 0:
                self.failures_left -= 1
                raise RuntimeError("on_upload failed on purpose")

    def snapshot(self) -> list[tuple[str, Path, str]]:
        with self.lock:
            return list(self.calls)


def authenticate(username: str, password: str) -> str | None:
    if username == "broken-callback":
        raise RuntimeError("account store unavailable")
    if username == "bad-slug":
        return "../evil"
    expected = ACCOUNTS.get(username)
    if expected is None or expected[0] != password:
        return None
    return expected[1]


def authenticate_key(username: str, key: paramiko.PKey) -> str | None:
    registered = ACCOUNT_KEYS.get(username)
    if registered is None or registered.asbytes() != key.asbytes():
        return None
    return ACCOUNTS[username][1]


@dataclass
class Inbox:
    """A running server, its folders and its recorded uploads."""

    server: SftpServer
    base_dir: Path
    root: Path
    host_key_path: Path
    uploads: UploadRecorder

    def area(self, tenant: str) -> Path:
        return self.root / tenant

    def partial_files(self, tenant: str) -> list[Path]:
        folder = self.root / ".partial" / tenant
        return sorted(folder.iterdir()) if folder.exists() else []

    @contextmanager
    def client(
        self, username: str = "acme-upload", password: str | None = None, key: paramiko.PKey | None = None
    ) -> Iterator[paramiko.SFTPClient]:
        """Log in as ``username`` with ``key`` or a password and yield an SFTP client.

        Without ``key`` and ``password`` the account's own password is used. The connection closes
        afterwards.
        """
        transport = open_transport(self.server.port, self.host_key_path)
        try:
            if key is not None:
                transport.auth_publickey(username, key)
            else:
                transport.auth_password(username, password if password is not None else ACCOUNTS[username][0])
            sftp = paramiko.SFTPClient.from_transport(transport)
            assert sftp is not None
            sftp.get_channel().settimeout(CLIENT_TIMEOUT_SECONDS)
            yield sftp
        finally:
            transport.close()


def open_transport(port: int, host_key_path: Path) -> paramiko.Transport:
    """Connect to the server and check that it presents the key stored at ``host_key_path``."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=CLIENT_TIMEOUT_SECONDS)
    transport = paramiko.Transport(sock)
    transport.banner_timeout = CLIENT_TIMEOUT_SECONDS
    transport.handshake_timeout = CLIENT_TIMEOUT_SECONDS
    transport.auth_timeout = CLIENT_TIMEOUT_SECONDS
    transport.start_client(timeout=CLIENT_TIMEOUT_SECONDS)
    expected_key = paramiko.PKey.from_path(host_key_path)
    assert transport.get_remote_server_key().fingerprint == expected_key.fingerprint
    return transport


def make_server(base_dir: Path, uploads: UploadRecorder, **options: Any) -> SftpServer:
    return SftpServer(
        host="127.0.0.1",
        port=0,
        host_key_path=base_dir / "keys" / "ssh_host_ed25519_key",
        root_dir=base_dir / "inbox",
        authenticate=authenticate,
        authenticate_key=authenticate_key,
        on_upload=uploads,
        **options,
    )


@contextmanager
def running_inbox(base_dir: Path, **options: Any) -> Iterator[Inbox]:
    """Start a test server on ``base_dir`` with ``options`` for :class:`SftpServer`; stop it on exit."""
    uploads = UploadRecorder()
    server = make_server(base_dir, uploads, **options)
    server.start()
    try:
        yield Inbox(
            server=server,
            base_dir=base_dir,
            root=base_dir / "inbox",
            host_key_path=base_dir / "keys" / "ssh_host_ed25519_key",
            uploads=uploads,
        )
    finally:
        server.stop()


@pytest.fixture
def inbox(tmp_path: Path) -> Iterator[Inbox]:
    with running_inbox(tmp_path) as running:
        yield running
