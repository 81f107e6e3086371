"""The job report as a CSV download ("Scarica report") for spreadsheet programs set to Italian.

The file is UTF-8 with a byte order mark and ``;`` as the separator, as Excel in Italy opens it
without an import dialog. It starts with the counts, then has one row per problem: file, record,
field, value, reason and suggested fix, in Italian. Contacts are masked with
:func:`bolletta.platform.privacy.mask_contact` and fiscal codes partly masked. Every text cell is
protected against formula injection. Counts and amounts are written as numbers, so a credit such as
``-12,50`` stays a number. Each download is audited as a bulk read of personal data.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import anyio
import msgspec
from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from bolletta.platform import audit
from bolletta.platform.contacts.masking import masked_reason
from bolletta.platform.db.models.tenant import Job
from bolletta.platform.i18n.message import T_, Text, render
from bolletta.platform.jobs.approval import Staff
from bolletta.platform.jobs.review import mask_fiscal_code
from bolletta.platform.office.routes import _staff
from bolletta.platform.office.staff import require_tenant_staff
from bolletta.platform.web.context import rt

LANGUAGE = "it"
SEPARATOR = ";"
FORMULA_TRIGGERS = frozenset("=+-@＝＋－＠")
"""First characters that make a spreadsheet read a cell as a formula, with their full-width forms."""
LEADING_CONTROL = ("\t", "\r", "\n")
FISCAL_CODE = re.compile(r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]")
"""An Italian personal fiscal code, with the letters that replace digits in homocode cases."""

Cell = str | int | Decimal

FIXES: dict[str, Text] = {
    "archive_error": T_("Export the flow again from the billing system and upload it."),
    "rejected": T_("Correct the record in the billing system and upload the flow again."),
    "duplicate": T_("Remove the bill from the flow, unless this job is meant to replace the earlier one."),
    "ignored": T_("Remove the file from the archive, or rename it if it is a bill, contacts or PDF file."),
    "warning": T_("Check the bill before approval."),
    "without_contact": T_("Add a mobile number or e-mail address for the customer: in the flow, in the job's "
                          "contacts file or in the contacts directory."),
}


def safe_cell(value: str) -> str:
    """Prefix ``value`` with an apostrophe when a spreadsheet would read it as a formula.

    That is when it starts with a tab, CR or LF, or its first character after leading white space
    is ``=``, ``+``, ``-`` or ``@`` (or their full-width forms).
    """
    stripped = value.lstrip()
    if value.startswith(LEADING_CONTROL) or (stripped and stripped[0] in FORMULA_TRIGGERS):
        return "'" + value
    return value


def _format(cell: Cell) -> str:
    if isinstance(cell, bool):
        raise TypeError("write booleans as text")
    if isinstance(cell, int):
        return str(cell)
    if isinstance(cell, Decimal):
        return f"{cell:f}".replace(".", ",")
    return safe_cell(cell)


@dataclass(frozen=True)
class ReportProblem:
    """One problem row of the job report, with its texts in one language and contacts masked."""

    kind: str
    """``archive_error``, ``review``, ``rejected``, ``duplicate``, ``ignored``, ``warning`` or ``without_contact``."""
    file: str
    record: str
    field: str
    value: str | Decimal
    """The value at fault; an amount of an ``amount_change`` review warning stays a number."""
    reason: str
    fix: str


KIND_LABELS: dict[str, Text] = {
    "archive_error": T_("Archive rejected"),
    "review": T_("Check before approval"),
    "rejected": T_("Record rejected"),
    "duplicate": T_("Duplicate"),
    "ignored": T_("File ignored"),
    "warning": T_("Warning"),
    "without_contact": T_("Customer without a usable contact"),
}


def report_counts(job: Job) -> list[tuple[str, Text, int]]:
    """Return the report's counts as (key, label, count), in the order the CSV lists them."""
    report = job.report or {}
    return [
        ("bills_accepted", T_("Bills accepted"), job.bills_accepted),
        ("records_rejected", T_("Records rejected"), len(report.get("rejected", []))),
        ("duplicates", T_("Duplicates"), len(report.get("duplicates", []))),
        ("files_ignored", T_("Files ignored"), len(report.get("ignored", []))),
        ("warnings", T_("Warnings"), len(report.get("warnings", []))),
        ("review_warnings", T_("Warnings to check before approval"), len(report.get("review", []))),
        ("without_contact", T_("Customers without a usable contact"), len(report.get("without_contact", []))),
        ("contacts", T_("Contacts read"), int(report.get("contacts", 0))),
    ]


def report_csv(job: Job) -> tuple[bytes, int]:
    """Return the job report as CSV bytes, and the number of problem rows in it."""
    problems = list(report_problems(job, LANGUAGE))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=SEPARATOR, lineterminator="\r\n")
    rows: list[list[Cell]] = [[_t(T_("Item")), _t(T_("Count"))]]
    rows += [[_t(label), count] for _, label, count in report_counts(job)]
    rows += [
        [],
        [_t(T_("Problem")), _t(T_("File")), _t(T_("Record")), _t(T_("Field")), _t(T_("Value")),
         _t(T_("Reason")), _t(T_("Suggested fix"))],
    ]
    rows += [[_t(KIND_LABELS[problem.kind]), problem.file, problem.record, problem.field, problem.value,
              problem.reason, problem.fix] for problem in problems]
    for row in rows:
        writer.writerow([_format(cell) for cell in row])
    return buffer.getvalue().encode("utf-8-sig"), len(problems)


REPORT_SECTIONS: tuple[tuple[str, str], ...] = (
    ("review", "review"),
    ("rejected", "rejected"),
    ("duplicate", "duplicates"),
    ("ignored", "ignored"),
    ("warning", "warnings"),
    ("without_contact", "without_contact"),
)
"""Problem kinds after ``archive_error``, with the ``Job.report`` list each comes from, in report order."""


def problem_count(job: Job) -> int:
    """Return the number of rows :func:`report_problems` yields for ``job``, without building them."""
    report = job.report or {}
    count = 1 if report.get("archive_error") else 0
    return count + sum(len(report.get(key) or []) for _, key in REPORT_SECTIONS)


def report_problems(job: Job, language: str, start: int = 0, stop: int | None = None) -> Iterator[ReportProblem]:
    """Yield the report's problem rows ``start`` to ``stop`` (excluded) in ``language``, with contacts masked.

    Rows before ``start`` are skipped section by section without being translated, so a page deep in a
    report of 50,000 problems costs about as much as the first page.
    """
    report = job.report or {}
    position = 0
    if report.get("archive_error"):
        if start <= position and (stop is None or position < stop):
            yield ReportProblem("archive_error", job.filename, "", "", "",
                                _reason(report["archive_error"], language)[0], render(FIXES["archive_error"], language))
        position += 1
    for kind, key in REPORT_SECTIONS:
        items = report.get(key) or []
        first = max(start - position, 0)
        last = len(items) if stop is None else min(max(stop - position, 0), len(items))
        for item in items[first:last]:
            yield _problem(job, kind, item, language)
        position += len(items)


def _problem(job: Job, kind: str, item: Any, language: str) -> ReportProblem:
    """Build the problem row of one entry of a ``Job.report`` list."""
    if kind == "review":
        value: str | Decimal = item.get("value", "")
        if item.get("check") == "amount_change":
            value = _decimal_or_text(str(value))
        return ReportProblem("review", item.get("file", ""), item.get("record", ""), item.get("field", ""), value,
                             _reason(item["warning"], language)[0], render(item["fix"], language))
    if kind == "rejected":
        reason, masked_value = _reason(item["reason"], language)
        return ReportProblem("rejected", item.get("file") or "", str(item.get("record") or ""),
                             item.get("field") or "", masked_value, reason, render(FIXES["rejected"], language))
    if kind == "duplicate":
        reason = render(T_("Document {document_number} was already imported in job {job_id}.",
                           document_number=str(item.get("document_number")), job_id=str(item.get("job_id"))),
                        language)
        return ReportProblem("duplicate", item.get("file") or "", "", "document_number",
                             str(item.get("document_number")), reason, render(FIXES["duplicate"], language))
    if kind == "ignored":
        return ReportProblem("ignored", item.get("file") or "", "", "", "",
                             _reason(item.get("reason", ""), language)[0], render(FIXES["ignored"], language))
    if kind == "warning":
        return ReportProblem("warning", "", "", "", "", _reason(item, language)[0], render(FIXES["warning"], language))
    shown = mask_fiscal_code(item) if FISCAL_CODE.fullmatch(item) else item
    return ReportProblem("without_contact", "", "", "customer_code", shown,
                         render(T_("The customer {customer_code} has no usable contact.", customer_code=shown),
                                language),
                         render(FIXES["without_contact"], language))


def _reason(stored: Any, language: str) -> tuple[str, str]:
    """Render a stored reason with contacts and fiscal codes masked; return it and the masked contact."""
    if isinstance(stored, str):
        return stored, ""
    text = msgspec.convert(stored, Text)
    text, masked_value = masked_reason(_with_masked_fiscal_codes(text))
    return render(text, language), masked_value


def _with_masked_fiscal_codes(text: Text) -> Text:
    params = {
        name: mask_fiscal_code(value) if name == "fiscal_code" and isinstance(value, str) else value
        for name, value in text.params.items()
    }
    params = {
        name: _with_masked_fiscal_codes(value) if isinstance(value, Text) else value for name, value in params.items()
    }
    return Text(text.msgid, params)


def _decimal_or_text(value: str) -> str | Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        return value


def _t(text: Text) -> str:
    return render(text, LANGUAGE)


def _load_and_audit(staff: Staff, job_id: int) -> tuple[bytes, str] | None:
    assert staff.tenant is not None  # the guard admits tenant staff only
    with rt().db.tenant_session(staff.tenant) as session:
        job = session.get(Job, job_id)
        if job is None:
            return None
        data, problems = report_csv(job)
        audit.record(session, actor=staff.actor, user_id=staff.user_id, action="personal_data.bulk_read",
                     target=f"job:{job_id}", ip=staff.ip,
                     detail={"export": "job_report.csv", "rows": problems})
        session.commit()
    return data, f"job-{job_id}-report.csv"


@get("/office/jobs/{job_id:int}/report.csv", name="office:job-report", guards=[require_tenant_staff])
async def job_report_csv(request: Request[Any, Any, Any], job_id: FromPath[int]) -> Response[bytes]:
    """Download the job report as CSV ("Scarica report"); audited."""
    staff = _staff(request)
    result = await anyio.to_thread.run_sync(_load_and_audit, staff, job_id)
    if result is None:
        raise NotFoundException()
    data, filename = result
    return Response(
        content=data, media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
