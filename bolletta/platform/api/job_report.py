"""``GET /api/v1/jobs/{id}/report``: the job report of "Scarica report" as JSON (scope ``jobs:read``).

It contains the same counts and problem rows as the CSV download, in the client's language, with
contacts and fiscal codes masked the same way. The rows come in pages of ``per_page`` (default and
maximum :data:`MAX_REPORT_PER_PAGE`), so a report of up to that many problems still arrives whole
in one response without parameters, as before paging existed.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
import msgspec
from litestar import Request, get
from litestar.params import QueryParameter

from bolletta.platform.api import errors
from bolletta.platform.api.auth import authenticate
from bolletta.platform.api.errors import ApiProblem, problem_responses
from bolletta.platform.api.params import ObjectId, PageMeta, PageNumber
from bolletta.platform.api.tokens import SCOPE_JOBS_READ
from bolletta.platform.db.models.tenant import Job
from bolletta.platform.i18n.message import T_, render
from bolletta.platform.jobs import states
from bolletta.platform.office.listing import Paging
from bolletta.platform.office.report import KIND_LABELS, problem_count, report_counts, report_problems
from bolletta.platform.web.context import rt

NOT_PARSED_YET = frozenset({states.RECEIVED, states.PARSING})
MAX_REPORT_PER_PAGE = 1000
"""Default and maximum problem rows per page: about 0.7 MB of JSON, estimated from a 32 MB report of 50,000 rows."""

ReportPerPage = Annotated[int, QueryParameter(
    ge=1, le=MAX_REPORT_PER_PAGE,
    description=f"Problem rows per page, 1 to {MAX_REPORT_PER_PAGE}; the default {MAX_REPORT_PER_PAGE} returns "
                "a report of that many problems whole.")]


class ReportProblem(msgspec.Struct):
    """One problem row: what kind, where (file, record, field), the value at fault, why, and the fix."""

    kind: str
    """``archive_error``, ``review``, ``rejected``, ``duplicate``, ``ignored``, ``warning`` or ``without_contact``."""
    label: str
    file: str
    record: str
    field: str
    value: str
    reason: str
    fix: str


class JobReport(msgspec.Struct):
    """The counts and problem rows of a job's last parse."""

    job_id: int
    state: str
    counts: dict[str, int]
    """``bills_accepted``, ``records_rejected``, ``duplicates``, ``files_ignored``, ``warnings``,
    ``review_warnings``, ``without_contact`` and ``contacts``."""
    problems: list[ReportProblem]
    """The rows of this page, in the CSV report's order."""
    meta: PageMeta
    """This page's position: ``total`` problem rows over ``pages`` pages of ``per_page``."""


def _load(tenant: str, job_id: int, language: str, paging: Paging) -> JobReport | None:
    with rt().db.tenant_session(tenant) as session:
        job = session.get(Job, job_id)
        if job is None:
            return None
        if job.state in NOT_PARSED_YET:
            raise ApiProblem(409, T_("Job {job_id} is still {state}; its report is ready when parsing ends.",
                                     job_id=job_id, state=job.state))
        problems = [
            ReportProblem(kind=row.kind, label=render(KIND_LABELS[row.kind], language), file=row.file,
                          record=row.record, field=row.field,
                          value=row.value if isinstance(row.value, str) else f"{row.value:f}",
                          reason=row.reason, fix=row.fix)
            for row in report_problems(job, language, paging.offset, paging.offset + paging.size)
        ]
        counts = {key: count for key, _, count in report_counts(job)}
        total = problem_count(job)
        meta = PageMeta(total=total, page=paging.page, per_page=paging.size, pages=paging.pages(total))
        return JobReport(job_id=job.id, state=job.state, counts=counts, problems=problems, meta=meta)


@get("/jobs/{job_id:int}/report", name="api:job-report", responses=problem_responses(404, 409))
async def read_job_report(request: Request[Any, Any, Any], job_id: ObjectId, page: PageNumber = 1,
                          per_page: ReportPerPage = MAX_REPORT_PER_PAGE) -> JobReport:
    """Return the job report: counts, then one page of problem rows (scope ``jobs:read``); 409 before parsing ends.

    A page past the last one has no rows; ``meta.pages`` is the number of pages.
    """
    caller = await authenticate(request, SCOPE_JOBS_READ)
    language = errors.preferred_language(request.headers.get("accept-language"))
    paging = Paging(page=page, size=per_page, sort="", descending=False)
    report = await anyio.to_thread.run_sync(_load, caller.tenant, job_id, language, paging)
    if report is None:
        raise ApiProblem(404, T_("Job {job_id} not found.", job_id=job_id))
    return report
