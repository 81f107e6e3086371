"""The "Ricerca job" query: jobs by date received and state."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from bolletta.platform.db.models.tenant import Job
from bolletta.platform.jobs.states import ALLOWED
from bolletta.platform.office.listing import Paging, Query, read_paging, rome_start

SORT_KEYS = ("job", "received", "file", "state", "accepted", "rejected")
STATES = tuple(ALLOWED)


@dataclass(frozen=True)
class JobFilters:
    """The filters of "Ricerca job"."""

    date_from: date | None = None
    date_to: date | None = None
    state: str | None = None
    filename: str | None = None


def read_filters(query: Query) -> JobFilters:
    """Read the filters; unreadable fields go to ``query.errors``."""
    return JobFilters(date_from=query.day("date_from"), date_to=query.day("date_to"),
                      state=query.choice("state", STATES), filename=query.text("filename", 255))


def read_job_paging(query: Query) -> Paging:
    """Page and sort; newest job first by default."""
    return read_paging(query, SORT_KEYS, "job")


def _conditions(filters: JobFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.date_from:
        conditions.append(Job.created_at >= rome_start(filters.date_from))
    if filters.date_to:
        conditions.append(Job.created_at < rome_start(filters.date_to.fromordinal(filters.date_to.toordinal() + 1)))
    if filters.state:
        conditions.append(Job.state == filters.state)
    if filters.filename:
        conditions.append(func.lower(Job.filename).like(f"%{filters.filename.lower()}%"))
    return conditions


def _order(paging: Paging) -> Sequence[Any]:
    column: Any = {"job": Job.id, "received": Job.created_at, "file": Job.filename, "state": Job.state,
                   "accepted": Job.bills_accepted, "rejected": Job.bills_rejected}[paging.sort]
    return [column.desc() if paging.descending else column.asc(), Job.id.desc()]


def count_jobs(session: Session, filters: JobFilters) -> int:
    """Count the matching jobs."""
    return session.scalar(select(func.count(Job.id)).where(and_(True, *_conditions(filters)))) or 0


def search_jobs(session: Session, filters: JobFilters, paging: Paging) -> list[Job]:
    """Return one page of jobs."""
    query = select(Job).where(and_(True, *_conditions(filters))).order_by(*_order(paging))
    return list(session.scalars(query.limit(paging.size).offset(paging.offset)))


def iter_jobs(session: Session, filters: JobFilters, paging: Paging) -> Iterator[Job]:
    """Yield every matching job (exports)."""
    yield from session.scalars(select(Job).where(and_(True, *_conditions(filters))).order_by(*_order(paging)))
