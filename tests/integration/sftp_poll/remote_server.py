"""The utility's own SFTP server in polling tests: a second instance of our server on 127.0.0.1."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import paramiko
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from bolletta.platform.sftp.server import SftpServer
from bolletta.tenants.config import SftpPollSettings

REMOTE_USER = "bolletta-poller"
REMOTE_PASSWORD = "password-remota-lunga"
REMOTE_AREA = "utility"
"""Folder the remote server gives its one account, as our server names areas after tenants."""

POLLER_KEY_PEM = Ed25519PrivateKey.generate().private_bytes(
    Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption()
).decode()
POLLER_KEY = paramiko.Ed25519Key.from_private_key(io.StringIO(POLLER_KEY_PEM))


@dataclass
class RemoteServer:
    """The utility's server: our SftpServer on 127.0.0.1 with one account, recording login attempts."""

    server: SftpServer
    area: Path
    fingerprint: str
    logins: list[str] = field(default_factory=list)

    def put(self, relative: str, data: bytes) -> None:
        path = self.area / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def names(self, folder: str = "") -> list[str]:
        path = self.area / folder
        return sorted(entry.name for entry in path.iterdir()) if path.exists() else []


@contextmanager
def running_remote(tmp_path: Path) -> Iterator[RemoteServer]:
    """Start the remote server with one account, reachable by password and by ``POLLER_KEY``."""
    logins: list[str] = []

    def authenticate(username: str, password: str) -> str | None:
        logins.append(f"password:{username}")
        return REMOTE_AREA if (username, password) == (REMOTE_USER, REMOTE_PASSWORD) else None

    def authenticate_key(username: str, key: paramiko.PKey) -> str | None:
        logins.append(f"key:{username}")
        return REMOTE_AREA if username == REMOTE_USER and key.asbytes() == POLLER_KEY.asbytes() else None

    host_key_path = tmp_path / "remote_host_key"
    server = SftpServer(
        host="127.0.0.1", port=0, host_key_path=host_key_path, root_dir=tmp_path / "remote",
        authenticate=authenticate, authenticate_key=authenticate_key, on_upload=lambda *args: None,
    )
    server.start()
    area = tmp_path / "remote" / REMOTE_AREA
    area.mkdir(mode=0o700, parents=True)
    try:
        yield RemoteServer(
            server=server, area=area, fingerprint=paramiko.PKey.from_path(host_key_path).fingerprint, logins=logins
        )
    finally:
        server.stop()


def poll_settings(remote: RemoteServer, **changes: object) -> SftpPollSettings:
    """Settings reaching ``remote`` by password, polled on demand only unless ``changes`` say otherwise."""
    settings = SftpPollSettings(
        host="127.0.0.1", port=remote.server.port, username=REMOTE_USER, password=REMOTE_PASSWORD,
        host_key_fingerprint=remote.fingerprint, remote_dir="/", timeout_seconds=5.0, interval_minutes=0,
    )
    return msgspec.structs.replace(settings, **changes)
