"""Opening a job for an uploaded flow: store the archive untouched and queue its parsing."""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bolletta.platform import clock, tasks
from bolletta.platform.db.models.tenant import Job, JobTransition
from bolletta.platform.jobs import notes, states
from bolletta.platform.runtime import Runtime

logger = logging.getLogger(__name__)

CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class OpenedJob:
    """The job an upload opened, or the existing one when the same archive came before."""

    job_id: int
    created: bool


def open_job(
    rt: Runtime, tenant: str, data: bytes | Path | IO[bytes], filename: str, *, source: str, opened_by: str
) -> OpenedJob:
    """Open a job for an archive unless the same archive (same SHA-256) already has one.

    ``data`` is the archive's bytes, its path, or a seekable binary stream holding the archive from
    its first byte. A path or a stream is read in chunks, twice (once for the digest, once into
    storage), so a large archive never sits in memory whole.

    A job whose test batch was rejected or whose parse failed (``Job.released_at`` set) does not
    count: the same archive then opens a new job, and the old one stays for the audit trail.
    """
    if isinstance(data, Path):
        with data.open("rb") as stream:
            return open_job(rt, tenant, stream, filename, source=source, opened_by=opened_by)
    if isinstance(data, bytes):
        return open_job(rt, tenant, io.BytesIO(data), filename, source=source, opened_by=opened_by)

    data.seek(0)
    hasher = hashlib.sha256()
    while chunk := data.read(CHUNK_BYTES):
        hasher.update(chunk)
    digest = hasher.hexdigest()
    size = data.tell()
    safe_name = PurePosixPath(filename.replace("\\", "/")).name or "flow"
    with rt.db.tenant_session(tenant) as session:
        existing = _holder(session, digest)
        if existing is not None:
            logger.info("tenant %s: archive %s already opened as job %d", tenant, digest[:12], existing)
            return OpenedJob(job_id=existing, created=False)
        # A job released the same archive before: this one gets its own copy, so that retention
        # deleting the old job's archive leaves this job's in place.
        released = session.scalar(select(func.count(Job.id)).where(Job.archive_sha256 == digest)) or 0
        folder = f"archives/{digest}.{released}" if released else f"archives/{digest}"
        data.seek(0)
        key = rt.storage.put_stream(tenant, f"{folder}/{safe_name}", data)
        now = clock.now()
        job = Job(
            state=states.RECEIVED, filename=safe_name, source=source, archive_sha256=digest,
            archive_key=key, archive_size=size, opened_by=opened_by, created_at=now,
            updated_at=now, report={},
        )
        session.add(job)
        try:
            session.flush()
        except IntegrityError:
            # Another upload of the same archive committed first.
            session.rollback()
            job_id = _holder(session, digest)
            return OpenedJob(job_id=job_id or 0, created=False)
        session.add(JobTransition(job_id=job.id, from_state=None, to_state=states.RECEIVED, at=now,
                                  actor=opened_by, note=notes.stored(notes.opened(source, safe_name))))
        tasks.defer(session, "parse_job", tenant, job.id)
        session.commit()
    logger.info("tenant %s: job %d opened from %s (%d bytes)", tenant, job.id, source, size)
    return OpenedJob(job_id=job.id, created=True)


def _holder(session: Session, digest: str) -> int | None:
    """Return the id of the unreleased job opened for archive ``digest``, or ``None``."""
    return session.scalar(select(Job.id).where(Job.archive_sha256 == digest, Job.released_at.is_(None)))
