"""Deleting a tenant's data once its retention period is over (the tenant's ``retention`` settings).

A bill's period starts at the later of its last ticket's expiry and its payment. A bill with no
ticket and no payment counts from when it was stored. When it ends, the bill goes with everything
hanging from it: instalments, cost lines, tickets, messages and their outbox copies, events and
payments with their notifications, plus the PDF from the flow, the rendered PDF and the audio.
Then go the contacts of customers left without any bill, and the original archive of a job left
without any bill. Events, audit entries, staff list exports and settled webhook deliveries are
deleted by their own age: exports and deliveries with the events' period, because they can list
customers.

The purge logs and audits counts only, never a customer's data.
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Iterator, Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from bolletta.platform import audit, clock
from bolletta.platform.db.database import tenant_schema
from bolletta.platform.db.models.tenant import (
    AuditEntry,
    Bill,
    Contact,
    CostLine,
    Event,
    Export,
    Instalment,
    Job,
    Message,
    Payment,
    PaymentNotification,
    StoredMessage,
    Ticket,
    WebhookAttempt,
    WebhookDelivery,
)
from bolletta.platform.privacy.files import delete_bill_files
from bolletta.platform.runtime import Runtime
from bolletta.tenants.config import RetentionSettings
from bolletta.tenants.registry import get_tenant, tenant_config

logger = logging.getLogger(__name__)

BATCH = 500
"""Bills deleted per transaction, so the first purge of years of data runs as many small transactions."""
ACTOR = "system:retention"
APPEND_ONLY_MESSAGE = "audit entries are append-only"
"""The error of the trigger that the tenant migration ``10057da8b8b1`` creates on SQLite."""


def months_before(moment: datetime, months: int) -> datetime:
    """Return ``moment`` minus whole calendar months; the 31st becomes the month's last day."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def purge_tenant(rt: Runtime, tenant: str) -> dict[str, int]:
    """Delete the tenant's data past its retention, audit the counts and return them."""
    settings = tenant_config(get_tenant(rt.db, tenant)).retention
    now = clock.now()
    counts = _purge_bills(rt, tenant, months_before(now, settings.bill_months))
    with rt.db.tenant_session(tenant) as session:
        counts.update(_purge_by_age(rt, session, tenant, settings, now))
        counts["contacts"] = _purge_orphan_contacts(session, months_before(now, settings.bill_months))
        counts["archives"] = _purge_job_archives(rt, session, months_before(now, settings.bill_months))
        if any(counts.values()):
            audit.record(session, actor=ACTOR, action="retention.purge", detail={"counts": counts})
        session.commit()
    logger.info("tenant %s: retention purge deleted %s", tenant,
                ", ".join(f"{name} {count}" for name, count in counts.items()))
    return counts


def _purge_bills(rt: Runtime, tenant: str, cutoff: datetime) -> dict[str, int]:
    counts = {"bills": 0, "tickets": 0, "payments": 0, "files": 0}
    for bill_ids in _expired_bill_batches(rt, tenant, cutoff):
        with rt.db.tenant_session(tenant) as session:
            files = list(session.execute(select(Bill.public_id, Bill.pdf_key).where(Bill.id.in_(bill_ids))))
            # Files go first: after a failed commit the next run finds the bills again, while the
            # other order could leave files that no row points to.
            counts["files"] += delete_bill_files(rt, tenant, files)
            for name, count in _delete_bills(session, bill_ids).items():
                counts[name] += count
            session.commit()
    return counts


def _expired_bill_batches(rt: Runtime, tenant: str, cutoff: datetime) -> Iterator[list[int]]:
    """Yield the ids of bills whose retention ended before ``cutoff``, a batch at a time.

    Each batch is read in a fresh session after the previous one was deleted, so the scan resumes
    after the last id seen and never reads a deleted bill.
    """
    last_id = 0
    while True:
        with rt.db.tenant_session(tenant) as session:
            last_expiry = (select(Ticket.bill_id, func.max(Ticket.expires_at).label("expires_at"))
                           .group_by(Ticket.bill_id).subquery())
            rows = session.execute(
                select(Bill.id, Bill.paid_at, Bill.created_at, last_expiry.c.expires_at)
                .outerjoin(last_expiry, last_expiry.c.bill_id == Bill.id)
                .where(Bill.id > last_id, Bill.created_at < cutoff)
                .order_by(Bill.id).limit(BATCH)
            ).all()
        if not rows:
            return
        last_id = rows[-1].id
        expired = [row.id for row in rows if _retention_start(row.paid_at, row.expires_at, row.created_at) < cutoff]
        if expired:
            yield expired


def _retention_start(paid_at: datetime | None, expires_at: datetime | None, created_at: datetime) -> datetime:
    moments = [clock.as_utc(value) for value in (paid_at, expires_at) if value is not None]
    return max(moments) if moments else clock.as_utc(created_at)


def _delete_bills(session: Session, bill_ids: Sequence[int]) -> dict[str, int]:
    """Delete the bills and every row that hangs from them, children first."""
    ticket_ids = select(Ticket.id).where(Ticket.bill_id.in_(bill_ids))
    message_keys = select(Message.idempotency_key).where(Message.ticket_id.in_(ticket_ids))
    payment_ids = select(Payment.id).where(Payment.bill_id.in_(bill_ids))
    session.execute(delete(StoredMessage).where(StoredMessage.idempotency_key.in_(message_keys)))
    session.execute(delete(Message).where(Message.ticket_id.in_(ticket_ids)))
    session.execute(delete(Event).where(Event.bill_id.in_(bill_ids) | Event.ticket_id.in_(ticket_ids)))
    session.execute(delete(PaymentNotification).where(PaymentNotification.payment_id.in_(payment_ids)))
    payments = session.execute(delete(Payment).where(Payment.bill_id.in_(bill_ids)))
    tickets = session.execute(delete(Ticket).where(Ticket.bill_id.in_(bill_ids)))
    session.execute(delete(Instalment).where(Instalment.bill_id.in_(bill_ids)))
    session.execute(delete(CostLine).where(CostLine.bill_id.in_(bill_ids)))
    bills = session.execute(delete(Bill).where(Bill.id.in_(bill_ids)))
    return {"bills": _rowcount(bills), "tickets": _rowcount(tickets), "payments": _rowcount(payments)}


def _purge_by_age(rt: Runtime, session: Session, tenant: str, settings: RetentionSettings,
                  now: datetime) -> dict[str, int]:
    cutoff = months_before(now, settings.event_months)
    events = session.execute(delete(Event).where(Event.at < cutoff))
    entries = _delete_audit_entries(session, tenant, months_before(now, 12 * settings.audit_years))
    return {"events": _rowcount(events), "audit_entries": entries, "exports": _purge_exports(rt, session, cutoff),
            "webhook_deliveries": _purge_webhook_deliveries(session, cutoff)}


def _purge_exports(rt: Runtime, session: Session, cutoff: datetime) -> int:
    """Delete staff list exports requested before ``cutoff`` with their files, which list customers."""
    exports = list(session.execute(select(Export.id, Export.storage_key).where(Export.created_at < cutoff)))
    for _export_id, storage_key in exports:
        if storage_key and rt.storage.exists(storage_key):
            rt.storage.delete(storage_key)
    session.execute(delete(Export).where(Export.id.in_([export_id for export_id, _key in exports])))
    return len(exports)


def _purge_webhook_deliveries(session: Session, cutoff: datetime) -> int:
    """Delete settled webhook deliveries created before ``cutoff``, whose bodies can describe customers."""
    settled = select(WebhookDelivery.id).where(WebhookDelivery.created_at < cutoff, WebhookDelivery.status != "pending")
    session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(settled)))
    deleted = session.execute(delete(WebhookDelivery).where(WebhookDelivery.created_at < cutoff,
                                                           WebhookDelivery.status != "pending"))
    return _rowcount(deleted)


def _delete_audit_entries(session: Session, tenant: str, cutoff: datetime) -> int:
    """Delete the audit entries older than ``cutoff``, which a database trigger otherwise rejects.

    The trigger is switched off only inside this transaction, which holds the table's lock until
    the commit, so no other statement can change an audit entry meanwhile. Nothing is switched off
    when there is nothing to delete, which is almost every day.
    """
    old = session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.at < cutoff)) or 0
    if not old:
        return 0
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("DROP TRIGGER audit_entries_no_delete"))
        deleted = session.execute(delete(AuditEntry).where(AuditEntry.at < cutoff))
        session.execute(text(f"CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries "
                             f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"))
    else:
        table = f'"{tenant_schema(tenant)}".audit_entries'
        session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER audit_entries_append_only"))
        deleted = session.execute(delete(AuditEntry).where(AuditEntry.at < cutoff))
        session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER audit_entries_append_only"))
    return _rowcount(deleted)


def _purge_orphan_contacts(session: Session, cutoff: datetime) -> int:
    """Delete contacts stored before ``cutoff`` whose customer code no longer has any bill."""
    billed = select(Bill.customer_code).distinct()
    deleted = session.execute(delete(Contact).where(Contact.created_at < cutoff, Contact.customer_code.not_in(billed)))
    return _rowcount(deleted)


def _purge_job_archives(rt: Runtime, session: Session, cutoff: datetime) -> int:
    """Delete the stored archive of each job opened before ``cutoff`` that no longer has any bill.

    The job row stays, so the history of jobs remains; only the file with the customers' data goes.
    """
    with_bills = select(Bill.job_id).distinct()
    removed = 0
    jobs = session.execute(select(Job.id, Job.archive_key).where(Job.created_at < cutoff, Job.id.not_in(with_bills)))
    for _job_id, archive_key in jobs:
        if archive_key and rt.storage.exists(archive_key):
            rt.storage.delete(archive_key)
            removed += 1
    return removed


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
