"""Exports of the backoffice lists with their filters, as CSV or XLSX; every export is audited.

An export of up to :data:`DIRECT_LIMIT` rows is returned at once. A larger one is queued: a worker
writes the file to storage and the "Esportazioni" page offers it for download when ready. Contacts
stay masked in every export, as in the lists.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlalchemy.orm import Session

from bolletta.platform import audit, clock, tasks
from bolletta.platform.db.models.tenant import Export
from bolletta.platform.i18n.catalog import gettext, pgettext
from bolletta.platform.i18n.dynamic_ids import MESSAGE_STATUS_CONTEXT, N_, PAYMENT_STATUS_CONTEXT
from bolletta.platform.i18n.job_states import JOB_STATE_CONTEXT, job_state_label
from bolletta.platform.jobs.approval import Staff
from bolletta.platform.office import bill_search, job_search, payment_search, spreadsheet, ticket_search
from bolletta.platform.office.listing import Query
from bolletta.platform.privacy import mask_contact
from bolletta.platform.runtime import Runtime
from bolletta.platform.stats import figures as stats

logger = logging.getLogger(__name__)

DIRECT_LIMIT = 5000
FORMATS = ("csv", "xlsx")
# Litestar appends "; charset=utf-8" to every text/* media type itself.
MEDIA_TYPES = {"csv": "text/csv",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@dataclass(frozen=True)
class ExportKind:
    """How to count and read one list for export."""

    name: str
    headers: tuple[str, ...]
    count: Callable[[Session, dict[str, str]], int]
    rows: Callable[[Session, dict[str, str]], Iterator[Sequence[Any]]]
    labels: tuple[tuple[int, str | None], ...] = ()
    """Columns holding a stored code (a status or state) that the file shows translated, as pairs of
    the column index and the gettext context the pages use for it (``None`` for no context). Job
    states (context ``job state``) show their labels from :mod:`bolletta.platform.i18n.job_states`."""


class ExportRefused(Exception):
    """Raised for an unknown list or format, or filters that cannot be read."""


def _ticket_filters(params: dict[str, str]) -> tuple[ticket_search.TicketFilters, Any]:
    query = Query(params)
    filters = ticket_search.read_filters(query)
    paging = ticket_search.read_ticket_paging(query)
    if query.errors:
        raise ExportRefused(f"Filters that cannot be read: {', '.join(query.errors)}.")
    return filters, paging


def _count_tickets(session: Session, params: dict[str, str]) -> int:
    filters, _ = _ticket_filters(params)
    return ticket_search.count_tickets(session, filters, clock.now())


def _ticket_rows(session: Session, params: dict[str, str]) -> Iterator[Sequence[Any]]:
    filters, paging = _ticket_filters(params)
    for row in ticket_search.iter_tickets(session, filters, paging, clock.now()):
        yield (row.ticket_id, row.document_number, row.series, row.year, row.job_id, row.amount_due,
               row.customer_code, row.customer_name, row.created_at, row.channel, mask_contact(row.address),
               row.status, row.first_viewed_at, row.paid_online, row.expires_at, row.revoked_at)


KINDS: dict[str, ExportKind] = {}


def register(kind: ExportKind) -> None:
    """Make a list exportable under ``kind.name``."""
    KINDS[kind.name] = kind


register(ExportKind(
    name="tickets",
    headers=(N_("Ticket"), N_("Document number"), N_("Document series"), N_("Year"), "JOB", N_("Amount (€)"),
             N_("Customer code"), N_("Customer"), N_("Ticket date"), N_("Channel"), N_("Contact"), N_("Status"),
             N_("Viewed"), N_("Paid online"), N_("Valid until"), N_("Revoked")),
    count=_count_tickets, rows=_ticket_rows, labels=((11, MESSAGE_STATUS_CONTEXT),),
))


def _reader(read_filters: Callable[[Query], Any], read_paging: Callable[[Query], Any],
            fixed: dict[str, str] | None = None) -> Callable[[dict[str, str]], tuple[Any, Any]]:
    def read(params: dict[str, str]) -> tuple[Any, Any]:
        query = Query({**params, **(fixed or {})})
        filters, paging = read_filters(query), read_paging(query)
        if query.errors:
            raise ExportRefused(f"Filters that cannot be read: {', '.join(query.errors)}.")
        return filters, paging
    return read


_bills = _reader(bill_search.read_filters, bill_search.read_bill_paging)
register(ExportKind(
    name="bills",
    headers=(N_("Document number"), N_("Document series"), N_("Year"), "JOB", N_("Issue date"), N_("Due date"),
             N_("Amount (€)"), N_("Service"), N_("Customer code"), N_("Customer"), N_("Paid"), N_("Withdrawn on"),
             N_("Withdrawal cause")),
    count=lambda session, params: bill_search.count_bills(session, _bills(params)[0]),
    rows=lambda session, params: (
        (row.document_number, row.series, row.year, row.job_id, row.issue_date, row.due_date, row.amount_due,
         row.service, row.customer_code, row.customer_name, row.paid, row.withdrawn_at,
         bill_search.WITHDRAWAL_CAUSES.get(row.withdrawn_because or "", ""))
        for row in bill_search.iter_bills(session, *_bills(params))),
    labels=((12, None),),
))

_jobs = _reader(job_search.read_filters, job_search.read_job_paging)
register(ExportKind(
    name="jobs",
    headers=("JOB", N_("Received"), N_("File"), N_("State"), N_("Bills accepted"), N_("Rejected")),
    count=lambda session, params: job_search.count_jobs(session, _jobs(params)[0]),
    rows=lambda session, params: (
        (job.id, job.created_at, job.filename, job.state, job.bills_accepted, job.bills_rejected)
        for job in job_search.iter_jobs(session, *_jobs(params))),
    labels=((3, JOB_STATE_CONTEXT),),
))

_payments = _reader(payment_search.read_filters, payment_search.read_payment_paging)
register(ExportKind(
    name="payments",
    headers=(N_("Date"), N_("Order"), N_("Document number"), N_("Customer"), N_("Gateway"), N_("Status"),
             N_("Amount (€)"), N_("Completed"), N_("Flag")),
    count=lambda session, params: payment_search.count_payments(session, _payments(params)[0]),
    rows=lambda session, params: (
        (row.created_at, row.order_id, row.document_number, row.customer_name, row.gateway, row.status, row.amount,
         row.completed_at, row.flag or "")
        for row in payment_search.iter_payments(session, *_payments(params))),
    labels=((5, PAYMENT_STATUS_CONTEXT),),
))

_mailings = _reader(ticket_search.read_filters, ticket_search.read_ticket_paging, {"bill_by_email": "1"})
register(ExportKind(
    name="mailings",
    headers=(N_("Date"), N_("Document number"), N_("Customer code"), N_("Customer"), N_("E-mail"), N_("Status")),
    count=lambda session, params: ticket_search.count_tickets(session, _mailings(params)[0], clock.now()),
    rows=lambda session, params: (
        (row.created_at, row.document_number, row.customer_code, row.customer_name, mask_contact(row.address),
         row.status)
        for row in ticket_search.iter_tickets(session, *_mailings(params), clock.now())),
    labels=((5, MESSAGE_STATUS_CONTEXT),),
))


def _stats_selection(params: dict[str, str]) -> tuple[int, int, int | None]:
    query = Query(params)
    years = stats.selectable_years()
    year = query.integer("year") or years[0]
    group = query.integer("group") or 1
    job = query.integer("job")
    if query.errors or year not in years or group not in stats.GROUPINGS:
        raise ExportRefused("Give a year of the last five and a group of 1, 2 or 3 months.")
    return year, group, job


def _stats_rows(session: Session, params: dict[str, str]) -> Iterator[Sequence[Any]]:
    year, group, job = _stats_selection(params)
    for row in stats.year_page(session, year, group, job).periods:
        figures, total = row.figures, row.figures.total
        yield (year, row.first, row.last, total.tickets, figures.channel("sms").tickets,
               figures.channel("email").tickets, figures.channel("whatsapp").tickets, total.errors, total.s2s_errors,
               total.viewed, total.viewed_payable, stats.viewed_rate(total), total.paid, stats.paid_rate(total))


register(ExportKind(
    name="stats",
    headers=(N_("Year"), N_("From month"), N_("To month"), N_("Total tickets"), "SMS", "EMAIL", "WHATSAPP",
             N_("Errors"), N_("S2S errors"), N_("Viewed"), N_("Viewed payable bills"), N_("%% viewed"),
             N_("Payments"), N_("%% payments")),
    count=lambda session, params: 12 // _stats_selection(params)[1],
    rows=_stats_rows,
))


def kind_of(name: str, file_format: str) -> ExportKind:
    """Return the export kind ``name`` in ``file_format``; :class:`ExportRefused` when either is unknown."""
    if name not in KINDS or file_format not in FORMATS:
        raise ExportRefused(f"No export {name}.{file_format}; lists: {', '.join(KINDS)}; formats: csv, xlsx.")
    return KINDS[name]


def _labelled(rows: Iterator[Sequence[Any]], labels: tuple[tuple[int, str | None], ...],
              language: str) -> Iterator[Sequence[Any]]:
    """Yield ``rows`` with the stored codes of the ``labels`` columns replaced by their translation."""
    if not labels:
        yield from rows
        return
    for row in rows:
        values = list(row)
        for column, context in labels:
            code = values[column]
            if not isinstance(code, str) or not code:
                continue
            if context == JOB_STATE_CONTEXT:
                values[column] = job_state_label(code, language)
            elif context is None:
                values[column] = gettext(language, code)
            else:
                values[column] = pgettext(language, context, code)
        yield values


def render_file(session: Session, kind: ExportKind, file_format: str, params: dict[str, str],
                language: str) -> tuple[bytes, int]:
    """Render the whole file and return it with its row count."""
    # Headers share the page's msgids; "%%" is the escape the templates' gettext needs for "%".
    headers = [gettext(language, header).replace("%%", "%") for header in kind.headers]
    rows = _labelled(kind.rows(session, params), kind.labels, language)
    if file_format == "csv":
        return spreadsheet.csv_bytes(headers, rows)
    return spreadsheet.xlsx_bytes(headers, rows)


@dataclass(frozen=True)
class ExportResult:
    """Either the file (small exports) or the queued export's id."""

    content: bytes | None
    rows: int
    export_id: int | None
    filename: str


def request_export(rt: Runtime, tenant: str, staff: Staff, name: str, file_format: str, params: dict[str, str],
                   language: str) -> ExportResult:
    """Export a list now when small, else queue it; audit either way."""
    kind = kind_of(name, file_format)
    stamp = clock.now().strftime("%Y%m%d-%H%M%S")
    filename = f"{name}-{stamp}.{file_format}"
    with rt.db.tenant_session(tenant) as session:
        total = kind.count(session, params)
        detail = {"list": name, "format": file_format, "filters": params, "rows": total}
        if total <= DIRECT_LIMIT:
            content, rows = render_file(session, kind, file_format, params, language)
            audit.record(session, actor=staff.actor, user_id=staff.user_id, action="export.download",
                         target=f"list:{name}", ip=staff.ip, detail=detail)
            session.commit()
            return ExportResult(content=content, rows=rows, export_id=None, filename=filename)
        export = Export(user_id=staff.user_id, actor=staff.actor, kind=name, file_format=file_format, filters=params,
                        language=language, state="queued", created_at=clock.now())
        session.add(export)
        session.flush()
        audit.record(session, actor=staff.actor, user_id=staff.user_id, action="export.request",
                     target=f"export:{export.id}", ip=staff.ip, detail=detail)
        tasks.defer(session, "run_export", tenant, export.id)
        session.commit()
        return ExportResult(content=None, rows=total, export_id=export.id, filename=filename)


def run_export(rt: Runtime, tenant: str, export_id: int) -> None:
    """Write a queued export to storage (idempotent: a ready export is left alone)."""
    with rt.db.tenant_session(tenant) as session:
        export = session.get(Export, export_id)
        if export is None or export.state == "ready":
            return
        export.state = "running"
        session.commit()
        try:
            kind = kind_of(export.kind, export.file_format)
            content, rows = render_file(session, kind, export.file_format, dict(export.filters), export.language)
        except Exception as exc:
            export.state, export.error, export.finished_at = "failed", str(exc)[:500], clock.now()
            session.commit()
            logger.exception("tenant %s: export %d failed", tenant, export_id)
            return
        key = rt.storage.put(tenant, f"exports/{export_id}.{export.file_format}", content)
        export.state, export.rows, export.storage_key, export.finished_at = "ready", rows, key, clock.now()
        session.commit()


def download(rt: Runtime, tenant: str, staff: Staff, export_id: int) -> tuple[Export, BinaryIO] | None:
    """Open a ready export of ``staff`` (any of the tenant's for an admin) and audit the download."""
    with rt.db.tenant_session(tenant) as session:
        export = session.get(Export, export_id)
        if export is None or export.state != "ready" or export.storage_key is None:
            return None
        if staff.role != "tenant_admin" and export.user_id != staff.user_id:
            return None
        audit.record(session, actor=staff.actor, user_id=staff.user_id, action="export.download",
                     target=f"export:{export_id}", ip=staff.ip, detail={"list": export.kind, "rows": export.rows})
        session.commit()
        session.expunge(export)
    return export, rt.storage.open(export.storage_key)
