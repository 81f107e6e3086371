"""The host key is created once with mode 0600 and presented again after a restart."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bolletta.platform.errors import ConfigurationError
from bolletta.platform.sftp.host_key import load_or_create_host_key

from .conftest import UploadRecorder, make_server, open_transport


def presented_fingerprint(port: int, host_key_path: Path) -> str:
    transport = open_transport(port, host_key_path)
    try:
        fingerprint: str = transport.get_remote_server_key().fingerprint
        return fingerprint
    finally:
        transport.close()


def test_host_key_reused_after_restart(tmp_path: Path) -> None:
    key_path = tmp_path / "keys" / "ssh_host_ed25519_key"

    first = make_server(tmp_path, UploadRecorder())
    first.start()
    try:
        first_fingerprint = presented_fingerprint(first.port, key_path)
    finally:
        first.stop()
    key_bytes = key_path.read_bytes()

    second = make_server(tmp_path, UploadRecorder())
    second.start()
    try:
        second_fingerprint = presented_fingerprint(second.port, key_path)
    finally:
        second.stop()

    assert first_fingerprint.startswith("SHA256:")
    assert second_fingerprint == first_fingerprint
    assert key_path.read_bytes() == key_bytes
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert sorted(path.name for path in key_path.parent.iterdir()) == ["ssh_host_ed25519_key"]


def test_host_key_is_ed25519(tmp_path: Path) -> None:
    key = load_or_create_host_key(tmp_path / "host_key")

    assert key.get_name() == "ssh-ed25519"


def test_host_key_readable_by_others_rejected(tmp_path: Path) -> None:
    key_path = tmp_path / "host_key"
    load_or_create_host_key(key_path)
    key_path.chmod(0o644)

    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_or_create_host_key(key_path)


def test_host_key_unreadable_content_rejected(tmp_path: Path) -> None:
    key_path = tmp_path / "host_key"
    key_path.write_text("not a key")
    key_path.chmod(0o600)

    with pytest.raises(ConfigurationError, match="cannot be loaded"):
        load_or_create_host_key(key_path)


def test_server_port_zero_binds_free_port(tmp_path: Path) -> None:
    server = make_server(tmp_path, UploadRecorder())
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.port

    server.start()
    try:
        assert server.port > 0
        with pytest.raises(RuntimeError, match="already started"):
            server.start()
    finally:
        server.stop()
    server.stop()
