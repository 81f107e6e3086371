"""Downloading billing flows from a utility's own SFTP server, with paramiko as the client.

A remote file is complete when a marker file with the same name plus ``.done`` exists beside it
(``flusso.zip`` and ``flusso.zip.done``). The marker is the utility's promise that the upload
finished, so no file is taken half-written, and the poller keeps no state between polls. Each
complete file is downloaded and opens a job through :func:`bolletta.platform.jobs.opening.open_job`
with source ``sftp_poll``. Then the file and its marker are moved to the processed folder, or
deleted, so the next poll does not take them again. A file downloaded twice, for example after a
failed move, still opens one job, because jobs are unique per archive SHA-256.

The server's host key must match the fingerprint in the tenant's settings before any credential is
sent. The password and the private key are stored encrypted and decrypted only here, just before the
connection (see :mod:`bolletta.platform.sftp.credentials`).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import posixpath
import socket
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import paramiko
from paramiko.pkey import UnknownKeyType

from bolletta.platform import clock
from bolletta.platform.errors import BollettaError, ConfigurationError
from bolletta.platform.jobs.inbox import FLOW_SUFFIXES, IncompleteArchive, check_archive_whole
from bolletta.platform.jobs.opening import open_job
from bolletta.platform.runtime import Runtime
from bolletta.platform.sftp import credentials
from bolletta.tenants.config import SftpPollSettings
from bolletta.tenants.registry import get_tenant, tenant_config

logger = logging.getLogger(__name__)

SOURCE = "sftp_poll"
DONE_SUFFIX = ".done"
AFTER_DOWNLOAD_ACTIONS = ("move", "delete")
PRIVATE_KEY_CLASSES: tuple[type[paramiko.PKey], ...] = (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey)


class PollError(BollettaError):
    """Raised when a tenant's remote SFTP server cannot be polled."""


class HostKeyMismatch(PollError):
    """Raised when the remote server presents a host key other than the configured one."""


@dataclass
class PollResult:
    """What one poll of a tenant's remote server did, file by file."""

    opened: dict[str, int] = field(default_factory=dict)
    """Remote file name to the id of the job it opened."""
    duplicates: dict[str, int] = field(default_factory=dict)
    """Remote file name to the id of the job its archive had already opened."""
    rejected: dict[str, str] = field(default_factory=dict)
    """Remote file name to the reason no job was opened; the file was still moved or deleted."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Remote file name to the reason it was left on the server for a later poll."""


def poll_tenant(rt: Runtime, tenant: str) -> PollResult:
    """Download the complete files from ``tenant``'s remote SFTP server and open a job for each.

    Raises:
        PollError: the tenant has no remote server configured, its settings are invalid, or the
            server cannot be reached, identified or logged in to.
        HostKeyMismatch: the server's host key differs from the configured fingerprint.
    """
    stored = tenant_config(get_tenant(rt.db, tenant)).sftp_poll
    if stored is None:
        raise PollError(f"Tenant {tenant!r} has no remote SFTP server configured (setting sftp_poll).")
    unsealed = credentials.clear_fields(stored)
    if unsealed:
        logger.warning("tenant %s: sftp_poll %s stored unencrypted by an earlier version; save the SFTP "
                       "settings again to encrypt them", tenant, " and ".join(unsealed))
    try:
        settings = credentials.open_login(rt, stored)
    except ConfigurationError as exc:
        raise PollError(f"Tenant {tenant!r}: {exc}.") from exc
    with open_remote(settings) as sftp:
        return _take_complete_files(rt, tenant, settings, sftp)


@contextlib.contextmanager
def open_remote(settings: SftpPollSettings) -> Iterator[paramiko.SFTPClient]:
    """Connect to the remote server, check its host key, log in and yield an SFTP client.

    ``settings`` must carry the password and private key decrypted (:func:`credentials.open_login`).

    Raises:
        PollError: the settings are invalid, or the connection or the login failed.
        HostKeyMismatch: the server's host key differs from ``settings.host_key_fingerprint``.
    """
    if settings.after_download not in AFTER_DOWNLOAD_ACTIONS:
        raise PollError(
            f"after_download {settings.after_download!r} is invalid: use one of {', '.join(AFTER_DOWNLOAD_ACTIONS)}."
        )
    if not settings.host_key_fingerprint.startswith("SHA256:"):
        raise PollError(
            f"host_key_fingerprint {settings.host_key_fingerprint!r} is invalid: set the server's SHA-256 "
            "fingerprint, as 'ssh-keyscan HOST | ssh-keygen -lf -' prints it (SHA256:...)."
        )
    credential = load_private_key(settings.private_key) if settings.private_key else None
    if credential is None and not settings.password:
        raise PollError("Neither password nor private_key is set for the remote SFTP server.")

    address = f"{settings.host}:{settings.port}"
    try:
        sock = socket.create_connection((settings.host, settings.port), timeout=settings.timeout_seconds)
    except OSError as exc:
        raise PollError(f"Connecting to the remote SFTP server {address} failed: {exc}") from exc
    transport = paramiko.Transport(sock)
    try:
        transport.banner_timeout = settings.timeout_seconds
        transport.handshake_timeout = settings.timeout_seconds
        transport.auth_timeout = settings.timeout_seconds
        try:
            transport.start_client(timeout=settings.timeout_seconds)
        except (paramiko.SSHException, OSError) as exc:
            raise PollError(f"SSH handshake with {address} failed: {exc}") from exc

        _check_host_key(transport.get_remote_server_key(), settings, address)

        try:
            if credential is not None:
                transport.auth_publickey(settings.username, credential)
            else:
                transport.auth_password(settings.username, settings.password)
        except (paramiko.SSHException, OSError) as exc:
            raise PollError(f"Login as {settings.username!r} on {address} failed: {exc}") from exc

        sftp = paramiko.SFTPClient.from_transport(transport)
        if sftp is None:
            raise PollError(f"{address} did not open an SFTP session.")
        channel = sftp.get_channel()
        if channel is not None:
            channel.settimeout(settings.timeout_seconds)
        yield sftp
    finally:
        transport.close()


def _check_host_key(key: paramiko.PKey, settings: SftpPollSettings, address: str) -> None:
    if key.fingerprint == settings.host_key_fingerprint:
        return
    logger.error(
        "SFTP poll: host key of %s is %s %s, expected %s; disconnected before logging in",
        address, key.get_name(), key.fingerprint, settings.host_key_fingerprint,
    )
    raise HostKeyMismatch(
        f"The host key of {address} is {key.fingerprint}, not the configured {settings.host_key_fingerprint}. "
        "If the utility changed its server key, confirm the new fingerprint with them and update "
        "host_key_fingerprint."
    )


def load_private_key(text: str) -> paramiko.PKey:
    """Read an unencrypted Ed25519, ECDSA or RSA private key, or raise :class:`PollError` naming why not."""
    errors = []
    for key_class in PRIVATE_KEY_CLASSES:
        try:
            return key_class.from_private_key(io.StringIO(text))
        except (paramiko.SSHException, UnknownKeyType, ValueError) as exc:
            errors.append(f"{key_class.__name__}: {exc}")
    raise PollError(f"private_key is not an unencrypted Ed25519, ECDSA or RSA key ({'; '.join(errors)}).")


def _take_complete_files(
    rt: Runtime, tenant: str, settings: SftpPollSettings, sftp: paramiko.SFTPClient
) -> PollResult:
    result = PollResult()
    try:
        entries = sftp.listdir_attr(settings.remote_dir)
    except OSError as exc:
        raise PollError(f"Listing remote folder {settings.remote_dir!r} failed: {exc}") from exc
    files = {entry.filename: entry for entry in entries if entry.st_mode is not None and stat.S_ISREG(entry.st_mode)}
    complete = sorted(name for name in files if not name.endswith(DONE_SUFFIX) and name + DONE_SUFFIX in files)

    for name in complete:
        size = files[name].st_size or 0
        if size > settings.max_file_bytes:
            reason = f"{size} bytes, more than max_file_bytes {settings.max_file_bytes}"
            logger.warning("tenant %s: SFTP poll skipped remote file %s: %s", tenant, name, reason)
            result.skipped[name] = reason
            continue
        try:
            _take_file(rt, tenant, settings, sftp, name, result)
        except OSError as exc:
            logger.warning("tenant %s: SFTP poll left remote file %s for the next poll: %s", tenant, name, exc)
            result.skipped[name] = str(exc)
    return result


def _take_file(
    rt: Runtime, tenant: str, settings: SftpPollSettings, sftp: paramiko.SFTPClient, name: str, result: PollResult
) -> None:
    download_dir = rt.settings.data_path / "sftp_poll" / tenant
    download_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=download_dir) as folder:
        local_path = Path(folder) / name
        sftp.get(posixpath.join(settings.remote_dir, name), str(local_path))
        with local_path.open("rb") as downloaded:
            digest = hashlib.file_digest(downloaded, "sha256").hexdigest()
        logger.info("tenant %s: SFTP poll downloaded remote file %s (%d bytes, sha256 %s)", tenant, name,
                    local_path.stat().st_size, digest)

        reason = _rejection_reason(local_path)
        if reason is not None:
            logger.warning("tenant %s: SFTP poll opened no job for remote file %s: %s", tenant, name, reason)
            result.rejected[name] = reason
        else:
            opened = open_job(rt, tenant, local_path, name, source=SOURCE, opened_by=f"{SOURCE}:{tenant}")
            (result.opened if opened.created else result.duplicates)[name] = opened.job_id

    _finish_remote(tenant, settings, sftp, name)


def _rejection_reason(path: Path) -> str | None:
    name = path.name.lower()
    if not name.endswith(FLOW_SUFFIXES):
        return f"not a billing flow (expected one of {', '.join(FLOW_SUFFIXES)})"
    if not name.endswith(".zip"):
        return None
    try:
        check_archive_whole(path)
    except IncompleteArchive as exc:
        return str(exc)
    return None


def _finish_remote(tenant: str, settings: SftpPollSettings, sftp: paramiko.SFTPClient, name: str) -> None:
    """Move the taken file and its marker to the processed folder, or delete them."""
    source = posixpath.join(settings.remote_dir, name)
    marker = source + DONE_SUFFIX
    if settings.after_download == "delete":
        sftp.remove(source)
        sftp.remove(marker)
        logger.info("tenant %s: SFTP poll deleted remote file %s", tenant, name)
        return

    folder = posixpath.join(settings.remote_dir, settings.processed_dir)
    with contextlib.suppress(OSError):
        sftp.mkdir(folder)
    target = posixpath.join(folder, name)
    if _exists(sftp, target):
        # An earlier file of the same name is kept; this one gets the time it was taken in front.
        target = posixpath.join(folder, f"{clock.now():%Y%m%dT%H%M%S}-{name}")
    sftp.rename(source, target)
    sftp.rename(marker, target + DONE_SUFFIX)
    logger.info("tenant %s: SFTP poll moved remote file %s to %s", tenant, name, target)


def _exists(sftp: paramiko.SFTPClient, path: str) -> bool:
    try:
        sftp.stat(path)
    except FileNotFoundError:
        return False
    return True
