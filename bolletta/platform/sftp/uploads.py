"""End of an upload: the completed file moved into place and reported, or the aborted one logged."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

from bolletta.platform.sftp.area import normalize_client_path, resolve_in_area

logger = logging.getLogger(__name__)

UploadCallback = Callable[[str, Path, str], None]
"""Called with the tenant slug, the file's absolute path and its path relative to the tenant's area."""

HASH_CHUNK_BYTES = 1024 * 1024


def move_upload_into_place(*, area: Path, client_path: str, staged: Path) -> tuple[Path, str]:
    """Move a staged upload to the path the client opened; return that path and its relative form.

    Raises:
        AreaPathError: the target path is no longer valid inside the area.
        OSError: the staged file cannot be moved into place.
    """
    target = resolve_in_area(area, client_path)
    relative = normalize_client_path(client_path).as_posix()
    os.replace(staged, target)
    return target, relative


def report_upload(*, tenant: str, target: Path, relative: str, on_upload: UploadCallback) -> None:
    """Log a completed upload with its size and SHA-256, then call ``on_upload``.

    ``on_upload`` runs before this returns, so before the client receives the reply to its CLOSE.
    An exception from ``on_upload`` is logged and not raised, because the file itself was stored.
    """
    size, digest = _size_and_sha256(target)
    logger.info(
        "SFTP upload completed: tenant %s, file %s, %d bytes, sha256 %s", tenant, relative, size, digest
    )
    try:
        on_upload(tenant, target, relative)
    except Exception:
        logger.exception("on_upload callback failed for tenant %s, file %s, but the file is stored", tenant,
                         relative)


def log_aborted_upload(*, tenant: str, client_path: str, bytes_written: int) -> None:
    """Log an upload discarded because its session ended before the client closed the file."""
    logger.warning("SFTP upload aborted: tenant %s, file %r, %d bytes received before the session ended",
                   tenant, client_path, bytes_written)


def _size_and_sha256(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as file:
        while chunk := file.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()
