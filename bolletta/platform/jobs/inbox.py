"""Handling of files that land in a tenant's SFTP area.

A whole archive opens a job, and a contacts CSV in ``contatti/`` updates the contacts directory.
A file under a temporary name (``a.zip.part``, ``a.zip.filepart``) waits for the client to rename
it. Any other file leaves the area's top: an empty file, a file of another type or an incomplete
archive moves to the ``scartati/`` folder, and the tenant's staff are e-mailed why.
"""

from __future__ import annotations

import logging
import os
import zipfile
from pathlib import Path, PurePosixPath

from bolletta.platform import clock, tasks
from bolletta.platform.contacts import directory
from bolletta.platform.jobs.opening import OpenedJob, open_job
from bolletta.platform.runtime import Runtime

logger = logging.getLogger(__name__)

FLOW_SUFFIXES = (".zip", ".xml", ".p7m", ".jsonl")
TEMPORARY_SUFFIXES = (".part", ".partial", ".filepart", ".tmp", ".temp", ".upload")
"""Names clients give an upload in progress before renaming it; such files wait for the rename."""
REJECTED_FOLDER = "scartati"
"""Folder of the area that receives the files that opened no job; the inbox never processes it."""


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


def is_temporary_name(name: str) -> bool:
    """True for a name a client uploads to before renaming the file to its real name."""
    return name.lower().endswith(TEMPORARY_SUFFIXES)


def open_job_from_upload(rt: Runtime, tenant: str, path: Path, relative: str) -> OpenedJob | None:
    """Open a job for a file the client closed or renamed; ``None`` when it opens no job.

    A file under a temporary name stays for its rename, and one in ``scartati/`` stays there. A
    file in the ``contatti/`` folder is imported into the contacts directory, and removed once
    imported or rejected, because its report is e-mailed. An empty file, a file that is not a flow
    and an archive that does not read whole move to ``scartati/``, and the staff are e-mailed. The
    utility then sends the corrected file again, under any name. A file that opened a job (or
    matched an earlier one) is removed from the area.
    """
    parts = PurePosixPath(relative).parts
    if is_temporary_name(path.name):
        logger.info("tenant %s: SFTP file %s has a temporary name; waiting for its rename", tenant, relative)
        return None
    if len(parts) > 1 and parts[0].casefold() == REJECTED_FOLDER:
        return None
    if directory.is_directory_upload(relative):
        directory.import_contacts(rt, tenant, path.read_bytes(), path.name, origin="sftp", actor=f"sftp:{tenant}")
        path.unlink(missing_ok=True)
        return None
    if path.stat().st_size == 0:
        _set_aside(rt, tenant, path, relative, "empty")
        return None
    if not path.name.lower().endswith(FLOW_SUFFIXES):
        _set_aside(rt, tenant, path, relative, "unsupported")
        return None
    if path.name.lower().endswith(".zip"):
        try:
            check_archive_whole(path)
        except IncompleteArchive as exc:
            logger.warning("tenant %s: %s; no job opened", tenant, exc)
            _set_aside(rt, tenant, path, relative, "incomplete")
            return None
    opened = open_job(rt, tenant, path, path.name, source="sftp", opened_by=f"sftp:{tenant}")
    if not opened.created:
        _tell_staff(rt, tenant, relative, "duplicate", opened.job_id)
    # The job keeps its own copy of the archive in storage, so the upload leaves the area and stops
    # counting against the tenant's SFTP quota.
    path.unlink(missing_ok=True)
    return opened


def _set_aside(rt: Runtime, tenant: str, path: Path, relative: str, problem: str) -> None:
    """Move a file that opens no job to ``scartati/`` at the area's top and e-mail the staff."""
    area = path
    for _ in PurePosixPath(relative).parts:
        area = area.parent
    folder = area / REJECTED_FOLDER
    folder.mkdir(mode=0o700, exist_ok=True)
    target = folder / path.name
    if target.exists():
        # An earlier file of the same name stays; this one gets the time it was set aside in front.
        target = folder / f"{clock.now():%Y%m%dT%H%M%S}-{path.name}"
    os.replace(path, target)
    logger.warning("tenant %s: SFTP file %s opened no job (%s); moved to %s/%s", tenant, relative, problem,
                   REJECTED_FOLDER, target.name)
    _tell_staff(rt, tenant, relative, problem)


def _tell_staff(rt: Runtime, tenant: str, filename: str, problem: str, job_id: int | None = None) -> None:
    with rt.db.tenant_session(tenant) as session:
        tasks.defer(session, "notify_upload", tenant, filename, problem, job_id)
        session.commit()
