from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bolletta.platform.db.base import TenantBase


class Job(TenantBase):
    """One billing flow's processing ("lavorazione"), from upload to dispatch."""

    __tablename__ = "jobs"
    __table_args__ = (
        # One job per archive among the jobs not released (see jobs.withdrawal): a job whose test
        # batch was rejected or whose parse failed lets the same archive open a new job.
        Index("uq_jobs_archive_sha256", "archive_sha256", unique=True,
              postgresql_where=text("released_at IS NULL"), sqlite_where=text("released_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(20))
    """``sftp``, ``office``, ``api`` or ``cli``."""
    archive_sha256: Mapped[str] = mapped_column(String(64))
    archive_key: Mapped[str] = mapped_column(String(500))
    archive_size: Mapped[int] = mapped_column(Integer)
    opened_by: Mapped[str] = mapped_column(String(200))
    """Who opened it: ``sftp:<account>``, ``user:<username>`` or ``cli``."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Counts, rejected records, ignored entries and warnings of the last parse."""
    bills_accepted: Mapped[int] = mapped_column(Integer, default=0)
    bills_rejected: Mapped[int] = mapped_column(Integer, default=0)
    test_round: Mapped[int] = mapped_column(Integer, default=0)
    """How many test batches went out; a rejected test batch is followed by a new round."""
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    started_by: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dispatch_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    """When the scheduler starts the dispatch of this approved job; ``None`` when nobody scheduled it."""
    dispatch_scheduled_by: Mapped[str | None] = mapped_column(String(200))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the job was rejected or failed; from then on the same archive opens a new job.

    Stored rather than read from ``state``, so that a released job stays released when an
    administrator later cancels it.
    """

    transitions: Mapped[list[JobTransition]] = relationship(
        back_populates="job", order_by="JobTransition.id", cascade="all, delete-orphan"
    )


class JobTransition(TenantBase):
    """One state change of a job, with who or what made it."""

    __tablename__ = "job_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")

    job: Mapped[Job] = relationship(back_populates="transitions")
