"""The SFTP server's host key: created once, then reused so clients keep trusting the server."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import paramiko
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from paramiko.pkey import UnknownKeyType

from bolletta.platform.errors import ConfigurationError

logger = logging.getLogger(__name__)

KEY_FILE_MODE = 0o600


def load_or_create_host_key(path: Path) -> paramiko.PKey:
    """Load the host key at ``path``, generating an Ed25519 key there first if the file is missing.

    A new key is written to a temporary file and hard-linked into place, so a concurrent start or
    a crash never leaves a half-written key at ``path``. An existing key of any type paramiko
    loads (Ed25519, ECDSA, RSA) is reused as it is.

    Raises:
        ConfigurationError: the existing file is readable by group or others, or cannot be loaded.
    """
    if not path.exists():
        _write_new_key(path)

    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigurationError(
            f"SFTP host key {path} has mode {mode:o}, so other users can read it. Run 'chmod 600 {path}'"
        )
    try:
        return paramiko.PKey.from_path(path)
    except (paramiko.SSHException, UnknownKeyType, ValueError) as error:
        raise ConfigurationError(f"SFTP host key {path} cannot be loaded: {error}") from error


def _write_new_key(path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    data = key.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption())

    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            # Another process created the key first; use that one.
            return
        public = paramiko.PKey.from_path(path)
        logger.info("created SFTP host key %s (%s %s)", path, public.get_name(), public.fingerprint)
    finally:
        temporary.unlink(missing_ok=True)
