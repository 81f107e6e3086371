"""Opening a job for an uploaded flow: store the archive untouched and queue its parsing."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import PurePosixPath

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bolletta.platform import clock, tasks
from bolletta.platform.db.models.tenant import Job, JobTransition
from bolletta.platform.jobs import states
from bolletta.platform.runtime import Runtime

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OpenedJob:
    """The job an upload opened, or the existing one when the same archive came before."""

    job_id: int
    created: bool


def open_job(rt: Runtime, tenant: str, data: bytes, filename: str, *, source: str, opened_by: str) -> OpenedJob:
    """Open a job for ``data`` unless the same archive (same SHA-256) already has one."""
    digest = hashlib.sha256(data).hexdigest()
    safe_name = PurePosixPath(filename.replace("\\", "/")).name or "flow"
    with rt.db.tenant_session(tenant) as session:
        existing = session.scalar(select(Job.id).where(Job.archive_sha256 == digest))
        if existing is not None:
            logger.info("tenant %s: archive %s already opened as job %d", tenant, digest[:12], existing)
            return OpenedJob(job_id=existing, created=False)
        key = rt.storage.put(tenant, f"archives/{digest}/{safe_name}", data)
        now = clock.now()
        job = Job(
            state=states.RECEIVED, filename=safe_name, source=source, archive_sha256=digest,
            archive_key=key, archive_size=len(data), opened_by=opened_by, created_at=now,
            updated_at=now, report={},
        )
        session.add(job)
        try:
            session.flush()
        except IntegrityError:
            # Another upload of the same archive committed first.
            session.rollback()
            job_id = session.scalar(select(Job.id).where(Job.archive_sha256 == digest))
            return OpenedJob(job_id=job_id or 0, created=False)
        session.add(JobTransition(job_id=job.id, from_state=None, to_state=states.RECEIVED, at=now,
                                  actor=opened_by, note=f"{source} upload {safe_name}"))
        tasks.defer(session, "parse_job", tenant, job.id)
        session.commit()
    logger.info("tenant %s: job %d opened from %s (%d bytes)", tenant, job.id, source, len(data))
    return OpenedJob(job_id=job.id, created=True)
