"""Parsing a job's archive into bills and contacts, with a report of everything left out.

The report (``Job.report``) and ``Bill.warnings`` store each reason and warning as a ``Text`` in its
JSON form (``{"msgid": ..., "params": {...}}``), translated when the backoffice or an e-mail shows it.
Reports stored before that hold plain English strings, which are shown as they are.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bolletta.platform import clock, tasks
from bolletta.platform.db.bulk import among, insert_rows
from bolletta.platform.db.models.tenant import Bill, Contact, CostLine, Instalment, Job
from bolletta.platform.errors import InvalidTransition
from bolletta.platform.i18n.message import T_, Text, to_json
from bolletta.platform.ingest.archive import ArchiveLimits
from bolletta.platform.ingest.errors import ArchiveRejected
from bolletta.platform.ingest.reader_process import ReaderProcessError, iter_flow_in_process
from bolletta.platform.ingest.records import IgnoredEntry, ParsedBill, ParsedContact, Rejection
from bolletta.platform.ingest.stream import FlowItem, iter_flow
from bolletta.platform.jobs import notes, review, states
from bolletta.platform.jobs.parse_lock import parse_lock
from bolletta.platform.jobs.withdrawal import release_job
from bolletta.platform.mail import notify
from bolletta.platform.payments.corrections import flag_payments_of_corrected
from bolletta.platform.runtime import Runtime
from bolletta.platform.speech import job_audio
from bolletta.platform.tokens import random_base62
from bolletta.tenants.config import TenantConfig
from bolletta.tenants.registry import get_tenant, tenant_config

logger = logging.getLogger(__name__)

ACTOR = "system:parser"
DUE_SOON_DAYS = 3
BATCH_SIZE = 1_000
"""Bills inserted and committed together."""
PDF_WRITERS = 4
"""Threads writing a batch's PDFs to storage."""


def parse_job(rt: Runtime, tenant: str, job_id: int) -> None:
    """Parse the job's stored archive; idempotent: a redelivered message finds the job moved on.

    Bills are stored and committed every ``BATCH_SIZE`` bills, so a job that crashes mid-way keeps
    its committed batches and stays ``parsing``. Running it again skips the bills it already stored.
    A delivery that finds another worker parsing the job returns at once (see :mod:`parse_lock`).
    """
    config = tenant_config(get_tenant(rt.db, tenant))
    with parse_lock(rt.db, tenant, job_id) as held:
        if not held:
            logger.info("tenant %s: job %d is being parsed by another worker", tenant, job_id)
            return
        _parse_held_job(rt, tenant, job_id, config)


def _parse_held_job(rt: Runtime, tenant: str, job_id: int, config: TenantConfig) -> None:
    """Parse the job while this worker holds its parse lock."""
    with rt.db.tenant_session(tenant) as session:
        job = session.get(Job, job_id)
        if job is None or job.state not in (states.RECEIVED, states.PARSING):
            return
        if job.state == states.RECEIVED:
            try:
                states.move(session, job, states.PARSING, actor=ACTOR)
            except InvalidTransition:
                # Another delivery of this message claimed the job a moment ago and parses it.
                session.rollback()
                logger.info("tenant %s: job %d is being parsed by another worker", tenant, job_id)
                return
            session.commit()
            _notify_opened(rt, tenant, job_id)
        items = _read_flow_items(rt, tenant, job, config)
        progress = _Progress()
        try:
            _store_flow(rt, session, tenant, job, config, items, progress)
            _finish(session, job, config, progress)
        except _ReadFailed as exc:
            session.rollback()
            _delete_stored(session, job.id)
            _finish(session, job, config, _Progress(), archive_error=exc.text)
        except (IntegrityError, InvalidTransition):
            # A delivery that found the job already parsing ran alongside this one: the other
            # committed the same bills first (unique key) or moved the job first (compare-and-set).
            session.rollback()
            if session.scalar(select(Job.state).where(Job.id == job_id)) == states.PARSING:
                raise
            logger.info("tenant %s: job %d was parsed by another worker", tenant, job_id)


class _ReadFailed(Exception):
    """Reading the archive stopped; ``text`` is the report's archive error."""

    def __init__(self, text: Text) -> None:
        super().__init__(text.msgid)
        self.text = text


class _Progress(msgspec.Struct, kw_only=True):
    """Problems and counts of the flow for the report, without the bills themselves."""

    rejected: list[Rejection] = []
    ignored: list[IgnoredEntry] = []
    duplicates: list[dict[str, Any]] = []
    contacts: int = 0
    stored_keys: set[tuple[str, str, int]] = set()
    """Document number, series and year of every bill this run stored."""


def _read_flow_items(rt: Runtime, tenant: str, job: Job, config: TenantConfig) -> Iterator[FlowItem]:
    """Yield the flow's items, turning any reading error into ``_ReadFailed``."""
    try:
        with rt.storage.local_copy(job.archive_key) as archive:
            yield from _iter_archive(rt, job, config, archive)
    except ArchiveRejected as exc:
        raise _ReadFailed(exc.text) from exc
    except Exception as exc:  # a reader bug must fail this job, not the worker
        logger.exception("tenant %s: reading the archive of job %d failed", tenant, job.id)
        raise _ReadFailed(T_(
            "Internal error while reading {file} ({error}). The archive is kept. Tell the platform "
            "operator, who can run the job again once the error is fixed.",
            file=job.filename, error=exc.error_name if isinstance(exc, ReaderProcessError) else type(exc).__name__,
        )) from exc


def _iter_archive(rt: Runtime, job: Job, config: TenantConfig, archive: Path) -> Iterator[FlowItem]:
    options: dict[str, Any] = {
        "series_pattern": config.series_pattern or None,
        "customer_code_source": config.customer_code_source,
        "supply_address_types": config.supply_address_types,
        "cost_rules": config.cost_rules,
        "costs_layout": config.costs_layout or None,
        "flow_formats": config.flow_formats,
        "xsd_dir": rt.settings.fatturapa_xsd_dir or None,
    }
    limits = ArchiveLimits.from_settings(rt.settings)
    if _reads_in_process(rt, archive):
        yield from iter_flow_in_process(archive, job.filename, limits, **options)
    else:
        yield from iter_flow(archive, job.filename, limits, **options)


def _reads_in_process(rt: Runtime, archive: Path) -> bool:
    """Tell whether the archive is large enough, and a CPU free enough, to read it in a second process.

    A CPU counts as free when the load average of the last minute is at most the CPU count less one.
    On CPUs that other work keeps busy, the two processes wait for each other, and the job measured
    slower than in one process (see docs/benchmarks.md).
    """
    minimum = rt.settings.flow_reader_process_min_bytes
    cpus = os.cpu_count() or 1
    if minimum < 0 or cpus < 2 or archive.stat().st_size < minimum:
        return False
    return os.getloadavg()[0] <= cpus - 1


def _store_flow(
    rt: Runtime, session: Session, tenant: str, job: Job, config: TenantConfig, items: Iterator[FlowItem],
    progress: _Progress,
) -> None:
    """Store bills and contacts as they are read, committing after each full batch of bills.

    The last, partial batch is left uncommitted, so it commits together with the job's new state.
    """
    bills: list[ParsedBill] = []
    contacts = _ContactWriter(session, job)
    for item in items:
        if isinstance(item, ParsedBill):
            bills.append(item)
            if len(bills) >= BATCH_SIZE:
                progress.duplicates += _store_bills(rt, session, tenant, job, config, bills, progress.stored_keys)
                _store_contacts(session, contacts)
                session.commit()
                bills = []
        elif isinstance(item, ParsedContact):
            progress.contacts += 1
            contacts.add(item)
        elif isinstance(item, Rejection):
            progress.rejected.append(item)
        else:
            progress.ignored.append(item)
    progress.duplicates += _store_bills(rt, session, tenant, job, config, bills, progress.stored_keys)
    _store_contacts(session, contacts)


def _delete_stored(session: Session, job_id: int) -> None:
    """Delete the bills and contacts that earlier batches of a failed job committed."""
    bill_ids = select(Bill.id).where(Bill.job_id == job_id).scalar_subquery()
    session.execute(delete(Instalment).where(Instalment.bill_id.in_(bill_ids)))
    session.execute(delete(CostLine).where(CostLine.bill_id.in_(bill_ids)))
    session.execute(delete(Bill).where(Bill.job_id == job_id))
    session.execute(delete(Contact).where(Contact.job_id == job_id))


def _notify_opened(rt: Runtime, tenant: str, job_id: int) -> None:
    # Sent here rather than queued at upload, so it always arrives before the parse result.
    try:
        notify.notify_job(rt, tenant, job_id, "opened")
    except Exception:  # a mail outage must not stop parsing
        logger.exception("tenant %s: e-mailing the opening of job %d failed", tenant, job_id)


def _store_bills(
    rt: Runtime, session: Session, tenant: str, job: Job, config: TenantConfig, batch: list[ParsedBill],
    stored_keys: set[tuple[str, str, int]],
) -> list[dict[str, Any]]:
    """Insert the batch's new bills with their instalments and cost lines; return the duplicates.

    One query finds the batch's bills already stored and not withdrawn (see :mod:`withdrawal`). Those
    of this job (a re-run) are skipped. Those of another job, and a second bill with the same key in
    the archive (``stored_keys`` contains the keys of earlier batches), are reported as duplicates.
    PDFs are written to storage before the rows, so a stored bill never lacks its PDF.
    """
    if not batch:
        return []
    numbers = {parsed.document_number for parsed in batch}
    stored = {
        (row.document_number, row.series, row.year): row.job_id
        for row in session.execute(
            select(Bill.document_number, Bill.series, Bill.year, Bill.job_id).where(
                among(session, Bill.document_number, numbers), Bill.withdrawn_at.is_(None)
            )
        )
    }
    duplicates: list[dict[str, Any]] = []
    new: list[ParsedBill] = []
    rows: list[dict[str, Any]] = []
    pdfs: list[tuple[dict[str, Any], str, bytes]] = []
    for parsed in batch:
        key = (parsed.document_number, parsed.series, parsed.year)
        if key in stored_keys or (key in stored and stored[key] != job.id):
            duplicates.append({"file": parsed.source_file, "document_number": parsed.document_number,
                               "job_id": stored.get(key, job.id)})
            continue
        if key in stored:
            continue  # stored by an earlier run of this job
        row = _bill_row(parsed, job, config)
        if parsed.attachments:
            name = parsed.attachments[0].name or f"{row['public_id']}.pdf"
            pdfs.append((row, f"bills/{row['public_id']}/{name}", parsed.attachments[0].content))
        stored_keys.add(key)
        new.append(parsed)
        rows.append(row)
    if not rows:
        return duplicates
    _put_pdfs(rt, tenant, pdfs)

    # Ids are read back by public id: RETURNING with parameter order makes SQLite insert row by row.
    insert_rows(session, Bill, rows)
    ids_by_public_id = {
        public_id: bill_id
        for public_id, bill_id in session.execute(
            select(Bill.public_id, Bill.id).where(among(session, Bill.public_id, [row["public_id"] for row in rows]))
        )
    }
    bill_ids = [ids_by_public_id[row["public_id"]] for row in rows]
    instalments = [
        {"bill_id": bill_id, "position": index, "amount": item.amount, "due_date": item.due_date,
         "method": item.method, "notice_code": item.notice_code}
        for bill_id, parsed in zip(bill_ids, new, strict=True)
        for index, item in enumerate(parsed.instalments, start=1)
    ]
    costs = [
        {"bill_id": bill_id, "position": index, "category": item.category, "label": item.label,
         "amount": item.amount, "quantity": item.quantity, "unit": item.unit, "unit_price": item.unit_price}
        for bill_id, parsed in zip(bill_ids, new, strict=True)
        for index, item in enumerate(parsed.costs, start=1)
    ]
    insert_rows(session, Instalment, instalments)
    insert_rows(session, CostLine, costs)
    flag_payments_of_corrected(session, job.id)
    return duplicates


def _put_pdfs(rt: Runtime, tenant: str, pdfs: list[tuple[dict[str, Any], str, bytes]]) -> None:
    """Store each ``(row, key, content)`` PDF and set the row's ``pdf_key``, several writes at a time.

    A write mostly waits on the disk or the object store, so threads overlap the waits. The first
    error is raised once every write started has ended.
    """
    if len(pdfs) <= 1:
        for row, key, content in pdfs:
            row["pdf_key"] = rt.storage.put(tenant, key, content)
        return
    with ThreadPoolExecutor(max_workers=PDF_WRITERS, thread_name_prefix="bolletta-pdf") as pool:
        stored = list(pool.map(lambda pdf: rt.storage.put(tenant, pdf[1], pdf[2]), pdfs))
    for (row, _, _), stored_key in zip(pdfs, stored, strict=True):
        row["pdf_key"] = stored_key


def _bill_row(parsed: ParsedBill, job: Job, config: TenantConfig) -> dict[str, Any]:
    """Return the ``bills`` row of a parsed bill, with the approval warnings the job adds."""
    warnings = list(parsed.warnings)
    if config.vat_number and parsed.seller_vat and _digits(parsed.seller_vat) != _digits(config.vat_number):
        warnings.append(T_("The seller's VAT number {seller} is not the utility's ({utility}): check that this bill "
                           "belongs to this utility before approval.",
                           seller=parsed.seller_vat, utility=config.vat_number))
    today = clock.now().date()
    if parsed.due_date is not None and parsed.due_date <= today + timedelta(days=DUE_SOON_DAYS):
        warnings.append(T_("Due date {date} is past or within {days} days. Check the bill before approval.",
                           date=parsed.due_date.isoformat(), days=DUE_SOON_DAYS))
    if not parsed.is_credit_note and parsed.amount_due <= 0:
        warnings.append(T_("Invoice with amount due {amount}. Check the bill before approval.",
                           amount=str(parsed.amount_due)))
    payable = not parsed.is_credit_note and not parsed.direct_debit and parsed.amount_due > 0
    if parsed.details.get("payment", {}).get("payable_online") is False:
        payable = False  # the flow may withhold online payment; it can never grant it to a credit note
    return {
        "public_id": random_base62(22), "job_id": job.id, "source_file": parsed.source_file,
        "body_index": parsed.body_index, "document_number": parsed.document_number, "series": parsed.series,
        "year": parsed.year, "document_type": parsed.document_type, "issue_date": parsed.issue_date,
        "due_date": parsed.due_date, "currency": parsed.currency, "total": parsed.total,
        "amount_due": parsed.amount_due, "payment_method": parsed.payment_method,
        "direct_debit": parsed.direct_debit, "payable_online": payable, "service": parsed.service,
        "seller_name": parsed.seller_name, "customer_code": parsed.customer_code,
        "customer_name": parsed.customer_name, "fiscal_code": parsed.fiscal_code,
        "vat_number": parsed.vat_number, "customer_address": parsed.customer_address, "pod": parsed.pod,
        "pdr": parsed.pdr, "supply_address": parsed.supply_address, "period_from": parsed.period_from,
        "period_to": parsed.period_to, "consumption": parsed.consumption,
        "consumption_unit": parsed.consumption_unit, "details": dict(parsed.details),
        "warnings": [to_json(warning) for warning in warnings], "pdf_key": None,
        "created_at": clock.now(),
    }


def _digits(vat_number: str) -> str:
    """Keep the digits of a VAT number, dropping the country prefix (``IT07182930151`` → ``07182930151``)."""
    return "".join(char for char in vat_number if char.isdigit())


class _ContactWriter:
    """Contacts waiting to be inserted, without repeating one the job already has."""

    def __init__(self, session: Session, job: Job) -> None:
        self.job_id = job.id
        self.pending: list[dict[str, Any]] = []
        self.known = {
            (row.customer_code, row.channel, row.address)
            for row in session.execute(
                select(Contact.customer_code, Contact.channel, Contact.address).where(Contact.job_id == job.id)
            )
        }

    def add(self, contact: ParsedContact) -> None:
        key = (contact.customer_code, contact.channel, contact.address)
        if key in self.known:
            return
        self.known.add(key)
        self.pending.append({
            "customer_code": contact.customer_code, "channel": contact.channel, "address": contact.address,
            "language": contact.language, "source": contact.source, "job_id": self.job_id,
            "created_at": clock.now(),
        })


def _store_contacts(session: Session, contacts: _ContactWriter) -> None:
    insert_rows(session, Contact, contacts.pending)
    contacts.pending = []


def _finish(session: Session, job: Job, config: TenantConfig, progress: _Progress, *,
            archive_error: Text | None = None) -> None:
    codes_with_contact = set(
        session.scalars(select(Contact.customer_code).where(Contact.job_id == job.id))
    )
    accepted = 0
    warnings: list[Any] = []
    customer_codes: set[str] = set()
    stored = session.execute(
        select(Bill.document_number, Bill.customer_code, Bill.warnings)
        .where(Bill.job_id == job.id)
        .order_by(Bill.id)
        .execution_options(yield_per=BATCH_SIZE)
    )
    for row in stored:
        accepted += 1
        customer_codes.add(row.customer_code)
        warnings += [to_json(_bill_warning(row.document_number, warning)) for warning in row.warnings]
    report: dict[str, Any] = {
        "accepted": accepted,
        "rejected": [{"file": r.file, "record": r.record, "field": r.field, "reason": to_json(r.reason)}
                     for r in progress.rejected],
        "ignored": [{"file": i.file, "reason": to_json(i.reason)} for i in progress.ignored],
        "duplicates": progress.duplicates,
        "warnings": warnings,
        "contacts": progress.contacts,
        "without_contact": sorted(customer_codes - codes_with_contact),
    }
    if archive_error is not None:
        report["archive_error"] = to_json(archive_error)
    job.report = report
    job.bills_accepted = accepted
    job.bills_rejected = len(progress.rejected)
    review.review_job(session, job)
    if accepted:
        states.move(session, job, states.PARSED, actor=ACTOR,
                    note=notes.parsed(accepted, len(progress.rejected)))
        tasks.defer(session, "send_test_batch", session.info["tenant"], job.id)
        if job_audio.wants_audio(config):
            tasks.defer(session, "synthesize_job_speech", session.info["tenant"], job.id)
    else:
        states.move(session, job, states.FAILED, actor=ACTOR, note=notes.parse_failed(archive_error))
        release_job(session, job)
    tasks.defer(session, "notify_job", session.info["tenant"], job.id, job.state)
    session.commit()
    logger.info("job %d parsed: %d accepted, %d rejected, %d duplicates", job.id, accepted,
                len(progress.rejected), len(progress.duplicates))


def _bill_warning(document_number: str, warning: Any) -> Text:
    """Prefix a stored bill warning (``Text`` JSON, or a plain string from before) with the bill's number."""
    stored = warning if isinstance(warning, str) else msgspec.convert(warning, Text)
    return T_("{document_number}: {warning}", document_number=document_number, warning=stored)
