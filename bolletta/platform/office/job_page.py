"""The backoffice job page, bounded in size however many problems and bills the job has.

A flow of 50,000 bad records stores 50,000 problems in ``Job.report``, and listing them all makes a
24 MB page. The page shows every count, but only one page of :data:`ROWS_PER_PAGE` rows of each
report section, and the first :data:`BILLS_SHOWN` bills. The CSV report has every problem and the
bill search every bill. Loading and rendering run in a worker thread, because parsing a large
report takes seconds of CPU that would otherwise stop every other request.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from bolletta.platform.db.models.tenant import Bill, Job, Ticket
from bolletta.platform.web.context import rt

ROWS_PER_PAGE = 100
"""Problem rows per page of each report section."""
BILLS_SHOWN = 100
SECTIONS = ("review", "rejected", "duplicates", "ignored", "warnings", "without_contact")
"""The lists of ``Job.report`` that the page shows in pages."""


@dataclass(frozen=True)
class Section:
    """One page of a report list: the rows shown and where they sit in the whole list."""

    total: int
    start: int
    """Index of the first row shown, from 0."""
    rows: list[Any]

    @property
    def hidden(self) -> int:
        """Rows of the list that this page does not show."""
        return self.total - len(self.rows)


@dataclass(frozen=True)
class ReportPage:
    """The page of the job report that the job page shows."""

    page: int
    pages: int
    sections: dict[str, Section]
    review_checks: list[tuple[str, int]]
    """Review warnings per check (such as ``amount_change``), most frequent first."""


@dataclass(frozen=True)
class JobPageData:
    """Data of the job page, read in one session."""

    job: Job
    bills: list[Bill]
    bills_total: int
    test_tickets: list[Ticket]
    report: ReportPage


def report_page(report: dict[str, Any], page: int) -> ReportPage:
    """Cut each list of ``report`` to its rows of ``page``, a number clamped to the pages there are."""
    lists = {key: report.get(key) or [] for key in SECTIONS}
    longest = max((len(items) for items in lists.values()), default=0)
    pages = max((longest + ROWS_PER_PAGE - 1) // ROWS_PER_PAGE, 1)
    page = min(max(page, 1), pages)
    start = (page - 1) * ROWS_PER_PAGE
    sections = {key: Section(len(items), start, items[start:start + ROWS_PER_PAGE]) for key, items in lists.items()}
    checks = Counter(str(item.get("check", "")) for item in lists["review"] if isinstance(item, dict))
    return ReportPage(page=page, pages=pages, sections=sections, review_checks=checks.most_common())


def load_job_page(tenant: str, job_id: int, page: int) -> JobPageData | None:
    """Read the job, its first bills, its test tickets and one page of its report; None if no such job."""
    with rt().db.tenant_session(tenant) as session:
        # NOTE: this still decodes the whole ``Job.report`` JSON, and the decoder holds the GIL while it runs.
        job = session.scalar(select(Job).where(Job.id == job_id).options(selectinload(Job.transitions)))
        if job is None:
            return None
        bills_total = session.scalar(select(func.count()).select_from(Bill).where(Bill.job_id == job_id)) or 0
        bills = list(session.scalars(select(Bill).where(Bill.job_id == job_id).order_by(Bill.id).limit(BILLS_SHOWN)))
        test_tickets = list(session.scalars(
            select(Ticket).where(Ticket.job_id == job_id, Ticket.is_test.is_(True)).order_by(Ticket.id)
            .options(selectinload(Ticket.messages))
        ))
        session.expunge_all()
    return JobPageData(job=job, bills=bills, bills_total=bills_total, test_tickets=test_tickets,
                       report=report_page(job.report or {}, page))
