"""Handling of files that land in a tenant's SFTP area.

A whole archive opens a job, and a contacts CSV in ``contatti/`` updates the contacts directory.
"""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

from bolletta.platform import tasks
from bolletta.platform.contacts import directory
from bolletta.platform.jobs.opening import OpenedJob, open_job
from bolletta.platform.runtime import Runtime

logger = logging.getLogger(__name__)

FLOW_SUFFIXES = (".zip", ".xml", ".p7m", ".jsonl")


class IncompleteArchive(Exception):
    """Raised when an uploaded ZIP does not read whole (truncated or corrupted)."""


def check_archive_whole(path: Path) -> None:
    """Check that a ZIP is complete without inflating it; raise :class:`IncompleteArchive` if not.

    A truncated upload loses the central directory at the end of the file, or leaves members whose
    data runs past the end. Members are not decompressed here: that happens later, under the
    archive limits, so a ZIP bomb costs nothing at upload time.
    """
    size = path.stat().st_size
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise IncompleteArchive(f"{path.name} is not a complete ZIP archive: {exc}") from exc
    for member in members:
        if member.header_offset + member.compress_size > size:
            raise IncompleteArchive(f"{path.name}: member {member.filename} runs past the end of the file")


def open_job_from_upload(rt: Runtime, tenant: str, path: Path, relative: str) -> OpenedJob | None:
    """Open a job for an upload the client closed; ``None`` when the file is not a flow or not whole.

    A file that does not read whole opens nothing and stays where it is, so the utility can upload
    it again under the same name. A file that opened a job (or matched an earlier one) is removed
    from the area. A file in the ``contatti/`` folder never opens a job: it is imported into the
    contacts directory, and removed once imported or rejected, because its report is e-mailed.
    """
    if directory.is_directory_upload(relative):
        directory.import_contacts(rt, tenant, path.read_bytes(), path.name, origin="sftp", actor=f"sftp:{tenant}")
        path.unlink(missing_ok=True)
        return None
    if not path.name.lower().endswith(FLOW_SUFFIXES):
        logger.info("tenant %s: SFTP file %s is not a billing flow; no job opened", tenant, relative)
        return None
    if path.name.lower().endswith(".zip"):
        try:
            check_archive_whole(path)
        except IncompleteArchive as exc:
            logger.warning("tenant %s: %s; no job opened", tenant, exc)
            _tell_staff(rt, tenant, relative, "incomplete")
            return None
    opened = open_job(rt, tenant, path, path.name, source="sftp", opened_by=f"sftp:{tenant}")
    if not opened.created:
        _tell_staff(rt, tenant, relative, "duplicate", opened.job_id)
    # The job keeps its own copy of the archive in storage, so the upload leaves the area and stops
    # counting against the tenant's SFTP quota.
    path.unlink(missing_ok=True)
    return opened


def _tell_staff(rt: Runtime, tenant: str, filename: str, problem: str, job_id: int | None = None) -> None:
    with rt.db.tenant_session(tenant) as session:
        tasks.defer(session, "notify_upload", tenant, filename, problem, job_id)
        session.commit()
