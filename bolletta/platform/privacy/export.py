"""Export everything the tenant stores about one customer as one ZIP archive (access request).

Each kind of row is written twice, as ``<kind>.jsonl`` (one JSON object a line, exact values) and
``<kind>.csv`` (the same columns for a spreadsheet), next to ``manifest.json`` with the counts and the
bills' own PDFs under ``documents/``. Secrets are left out: ticket token hashes and the values a
gateway plugin keeps for an attempt (``provider_data``, which can hold a provider's security token).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, BinaryIO

from sqlalchemy import ColumnElement, inspect, select
from sqlalchemy.orm import Session

from bolletta.platform import audit, clock
from bolletta.platform.db.base import TenantBase
from bolletta.platform.db.models.tenant import (
    Bill,
    Contact,
    CostLine,
    Event,
    Instalment,
    Message,
    Payment,
    PaymentNotification,
    StoredMessage,
    Suppression,
    Ticket,
)
from bolletta.platform.office.spreadsheet import neutralise
from bolletta.platform.privacy.subjects import Subject, pseudonym
from bolletta.platform.runtime import Runtime

logger = logging.getLogger(__name__)

NUMBER = re.compile(r"-?\d+(\.\d+)?")
"""An amount as exported: a negative one is a number, not a formula to neutralise."""
SECRET_COLUMNS = {"tickets": {"token_hash"}, "payments": {"provider_data"}}
"""Columns never exported, by table."""


@dataclass(frozen=True)
class Requester:
    """The staff member behind an export or an erasure, for the audit trail."""

    username: str
    user_id: int | None = None
    ip: str = ""


def _sections(subject: Subject) -> Sequence[tuple[str, type[TenantBase], ColumnElement[bool]]]:
    """Return each exported kind with the condition that selects the subject's rows."""
    return (
        ("bills", Bill, Bill.id.in_(subject.bill_ids)),
        ("instalments", Instalment, Instalment.bill_id.in_(subject.bill_ids)),
        ("cost_lines", CostLine, CostLine.bill_id.in_(subject.bill_ids)),
        ("contacts", Contact, Contact.id.in_(subject.contact_ids)),
        ("tickets", Ticket, Ticket.id.in_(subject.ticket_ids)),
        ("messages", Message, Message.id.in_(subject.message_ids)),
        ("stored_messages", StoredMessage, StoredMessage.idempotency_key.in_(
            select(Message.idempotency_key).where(Message.id.in_(subject.message_ids)))),
        ("events", Event, Event.ticket_id.in_(subject.ticket_ids) | Event.bill_id.in_(subject.bill_ids)),
        ("payments", Payment, Payment.id.in_(subject.payment_ids)),
        ("payment_notifications", PaymentNotification, PaymentNotification.payment_id.in_(subject.payment_ids)),
        ("suppressions", Suppression, Suppression.address.in_(subject.addresses)),
    )


def write_archive(rt: Runtime, tenant: str, subject: Subject, target: BinaryIO, requester: Requester) -> dict[str, int]:
    """Write the subject's archive to ``target``, audit the export and return the row count of each kind."""
    counts: dict[str, int] = {}
    with rt.db.tenant_session(tenant) as session, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, model, condition in _sections(subject):
            columns = [column.key for column in inspect(model).column_attrs
                       if column.key not in SECRET_COLUMNS.get(name, set())]
            rows = [_plain(row, columns) for row in
                    session.scalars(select(model).where(condition).order_by(model.id))]  # type: ignore[attr-defined]
            archive.writestr(f"{name}.jsonl", "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
            archive.writestr(f"{name}.csv", _csv(columns, rows))
            counts[name] = len(rows)
        counts["documents"] = _add_documents(rt, session, subject, archive)
        manifest = {"tenant": tenant, "generated_at": clock.now().isoformat(),
                    "customer_codes": list(subject.customer_codes), "counts": counts}
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        audit.record(session, actor=requester.username, user_id=requester.user_id, ip=requester.ip,
                     action="customer.export", target=f"customer:{pseudonym(rt, tenant, subject)}",
                     detail={"counts": counts})
        session.commit()
    logger.info("tenant %s: exported the data of customer %s (%d bills)", tenant,
                pseudonym(rt, tenant, subject), counts["bills"])
    return counts


def _add_documents(rt: Runtime, session: Session, subject: Subject, archive: zipfile.ZipFile) -> int:
    added = 0
    for public_id, key in session.execute(select(Bill.public_id, Bill.pdf_key).where(
            Bill.id.in_(subject.bill_ids), Bill.pdf_key.is_not(None))):
        try:
            content = rt.storage.get(str(key))
        except FileNotFoundError:
            logger.warning("the stored PDF of bill %s is missing; the export goes on without it", public_id)
            continue
        archive.writestr(f"documents/{public_id}.pdf", content)
        added += 1
    return added


def _plain(row: Any, columns: Iterable[str]) -> dict[str, Any]:
    return {name: _value(getattr(row, name)) for name in columns}


def _value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _csv(columns: list[str], rows: list[dict[str, Any]]) -> str:
    """Return the rows as CSV with exact values, and text a spreadsheet would run as a formula neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row[name]) for name in columns])
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and not NUMBER.fullmatch(value):
        return neutralise(value)
    return value
