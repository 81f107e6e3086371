"""Parsing a job's archive into bills and contacts, with a report of everything left out.

The report (``Job.report``) and ``Bill.warnings`` store each reason and warning as a ``Text`` in its
JSON form (``{"msgid": ..., "params": {...}}``), translated when the backoffice or an e-mail shows it.
Reports stored before that hold plain English strings, which are shown as they are.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bolletta.platform import clock, tasks
from bolletta.platform.db.models.tenant import Bill, Contact, CostLine, Instalment, Job
from bolletta.platform.errors import InvalidTransition
from bolletta.platform.i18n.message import T_, Text, render, to_json
from bolletta.platform.ingest.archive import ArchiveLimits
from bolletta.platform.ingest.errors import ArchiveRejected
from bolletta.platform.ingest.reader import read_flow
from bolletta.platform.ingest.records import FlowReading, ParsedBill
from bolletta.platform.jobs import review, states
from bolletta.platform.mail import notify
from bolletta.platform.runtime import Runtime
from bolletta.platform.tokens import random_base62
from bolletta.tenants.config import TenantConfig
from bolletta.tenants.registry import get_tenant, tenant_config

logger = logging.getLogger(__name__)

ACTOR = "system:parser"
DUE_SOON_DAYS = 3


def parse_job(rt: Runtime, tenant: str, job_id: int) -> None:
    """Parse the job's stored archive; idempotent: a redelivered message finds the job moved on."""
    config = tenant_config(get_tenant(rt.db, tenant))
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
        data = rt.storage.get(job.archive_key)
        try:
            reading = read_flow(
                data, job.filename, ArchiveLimits.from_settings(rt.settings),
                series_pattern=config.series_pattern or None,
                customer_code_source=config.customer_code_source,
                supply_address_types=config.supply_address_types,
                cost_rules=config.cost_rules,
                xsd_dir=rt.settings.fatturapa_xsd_dir or None,
            )
        except ArchiveRejected as exc:
            _finish(session, job, FlowReading(), accepted=[], duplicates=[], archive_error=exc.text)
            return
        except Exception as exc:  # a reader bug must fail this job, not the worker
            logger.exception("tenant %s: reading the archive of job %d failed", tenant, job_id)
            error = T_("Internal error while reading {file} ({error}). The archive is kept. Tell the platform "
                       "operator, who can run the job again once the error is fixed.",
                       file=job.filename, error=type(exc).__name__)
            _finish(session, job, FlowReading(), accepted=[], duplicates=[], archive_error=error)
            return
        try:
            accepted, duplicates = _store_bills(rt, session, tenant, job, reading, config)
            _store_contacts(session, job, reading)
            _finish(session, job, reading, accepted=accepted, duplicates=duplicates)
        except (IntegrityError, InvalidTransition):
            # A delivery that found the job already parsing ran alongside this one: the other
            # committed its bills first (unique key) or moved the job first (compare-and-set).
            session.rollback()
            if session.scalar(select(Job.state).where(Job.id == job_id)) == states.PARSING:
                raise
            logger.info("tenant %s: job %d was parsed by another worker", tenant, job_id)


def _notify_opened(rt: Runtime, tenant: str, job_id: int) -> None:
    # Sent here rather than queued at upload, so it always arrives before the parse result.
    try:
        notify.notify_job(rt, tenant, job_id, "opened")
    except Exception:  # a mail outage must not stop parsing
        logger.exception("tenant %s: e-mailing the opening of job %d failed", tenant, job_id)


def _store_bills(
    rt: Runtime, session: Session, tenant: str, job: Job, reading: FlowReading, config: TenantConfig
) -> tuple[list[Bill], list[dict[str, Any]]]:
    accepted: list[Bill] = []
    duplicates: list[dict[str, Any]] = []
    for parsed in reading.bills:
        existing = session.scalar(
            select(Bill).where(
                Bill.document_number == parsed.document_number,
                Bill.series == parsed.series,
                Bill.year == parsed.year,
            )
        )
        if existing is not None:
            if existing.job_id != job.id:
                duplicates.append({"file": parsed.source_file, "document_number": parsed.document_number,
                                   "job_id": existing.job_id})
            else:
                accepted.append(existing)
            continue
        bill = _bill_from(parsed, job, config)
        if parsed.attachments:
            name = parsed.attachments[0].name or f"{bill.public_id}.pdf"
            bill.pdf_key = rt.storage.put(tenant, f"bills/{bill.public_id}/{name}", parsed.attachments[0].content)
        session.add(bill)
        session.flush()
        accepted.append(bill)
    return accepted, duplicates


def _bill_from(parsed: ParsedBill, job: Job, config: TenantConfig) -> Bill:
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
    bill = Bill(
        public_id=random_base62(22), job_id=job.id, source_file=parsed.source_file,
        body_index=parsed.body_index, document_number=parsed.document_number, series=parsed.series,
        year=parsed.year, document_type=parsed.document_type, issue_date=parsed.issue_date,
        due_date=parsed.due_date, currency=parsed.currency, total=parsed.total,
        amount_due=parsed.amount_due, payment_method=parsed.payment_method,
        direct_debit=parsed.direct_debit, payable_online=payable, service=parsed.service,
        seller_name=parsed.seller_name, customer_code=parsed.customer_code,
        customer_name=parsed.customer_name, fiscal_code=parsed.fiscal_code,
        vat_number=parsed.vat_number, customer_address=parsed.customer_address, pod=parsed.pod,
        pdr=parsed.pdr, supply_address=parsed.supply_address, period_from=parsed.period_from,
        period_to=parsed.period_to, consumption=parsed.consumption,
        consumption_unit=parsed.consumption_unit, details=dict(parsed.details),
        warnings=[to_json(warning) for warning in warnings],
        created_at=clock.now(),
    )
    bill.instalments = [
        Instalment(position=index, amount=item.amount, due_date=item.due_date, method=item.method,
                   notice_code=item.notice_code)
        for index, item in enumerate(parsed.instalments, start=1)
    ]
    bill.costs = [
        CostLine(position=index, category=item.category, label=item.label, amount=item.amount,
                 quantity=item.quantity, unit=item.unit, unit_price=item.unit_price)
        for index, item in enumerate(parsed.costs, start=1)
    ]
    return bill


def _digits(vat_number: str) -> str:
    """The digits of a VAT number, without the country prefix (``IT07182930151`` → ``07182930151``)."""
    return "".join(char for char in vat_number if char.isdigit())


def _store_contacts(session: Session, job: Job, reading: FlowReading) -> None:
    known = {
        (row.customer_code, row.channel, row.address)
        for row in session.execute(
            select(Contact.customer_code, Contact.channel, Contact.address).where(Contact.job_id == job.id)
        )
    }
    for contact in reading.contacts:
        key = (contact.customer_code, contact.channel, contact.address)
        if key in known:
            continue
        known.add(key)
        session.add(Contact(customer_code=contact.customer_code, channel=contact.channel,
                            address=contact.address, language=contact.language, source=contact.source,
                            job_id=job.id, created_at=clock.now()))


def _finish(
    session: Session, job: Job, reading: FlowReading, *, accepted: list[Bill],
    duplicates: list[dict[str, Any]], archive_error: Text | None = None,
) -> None:
    codes_with_contact = set(
        session.scalars(select(Contact.customer_code).where(Contact.job_id == job.id))
    )
    report: dict[str, Any] = {
        "accepted": len(accepted),
        "rejected": [{"file": r.file, "record": r.record, "field": r.field, "reason": to_json(r.reason)}
                     for r in reading.rejected],
        "ignored": [{"file": i.file, "reason": to_json(i.reason)} for i in reading.ignored],
        "duplicates": duplicates,
        "warnings": [to_json(warning) for warning in reading.warnings]
        + [to_json(_bill_warning(bill, warning)) for bill in accepted for warning in bill.warnings],
        "contacts": len(reading.contacts),
        "without_contact": sorted({bill.customer_code for bill in accepted} - codes_with_contact),
    }
    if archive_error is not None:
        report["archive_error"] = to_json(archive_error)
    job.report = report
    job.bills_accepted = len(accepted)
    job.bills_rejected = len(reading.rejected)
    review.review_job(session, job)
    if accepted:
        states.move(session, job, states.PARSED, actor=ACTOR,
                    note=f"{len(accepted)} bills accepted, {len(reading.rejected)} rejected")
        tasks.defer(session, "send_test_batch", session.info["tenant"], job.id)
    else:
        # Transition notes are plain English text, like the other notes of the job history.
        note = render(archive_error, "en") if archive_error is not None else "no bill accepted"
        states.move(session, job, states.FAILED, actor=ACTOR, note=note)
    tasks.defer(session, "notify_job", session.info["tenant"], job.id, job.state)
    session.commit()
    logger.info("job %d parsed: %d accepted, %d rejected, %d duplicates", job.id, len(accepted),
                len(reading.rejected), len(duplicates))


def _bill_warning(bill: Bill, warning: Any) -> Text:
    """Prefix a stored bill warning (``Text`` JSON, or a plain string from before) with the bill's number."""
    stored = warning if isinstance(warning, str) else msgspec.convert(warning, Text)
    return T_("{document_number}: {warning}", document_number=bill.document_number, warning=stored)
