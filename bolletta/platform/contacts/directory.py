"""Import of a contacts CSV uploaded alone into the tenant's contacts directory.

A file arrives through the SFTP folder ``contatti/``, the backoffice or ``POST /api/v1/contacts``
and never opens a job. Its contacts become ``Contact`` rows with source ``directory`` and no job.
Dispatch uses them for a bill only when neither its flow nor its job's contacts CSV has any.

The directory keeps the current contacts, not a history: for each customer code in the file, the
file's mobile numbers replace that customer's earlier directory numbers (SMS and WhatsApp), and its
e-mail addresses replace the earlier addresses. A customer whose row has no valid value of a kind
keeps the earlier contacts of that kind, so a typo or an empty cell never erases a working
contact. Within one file a customer code, channel and address stored twice is kept once, with the
language of its last row. The audit log records every import with its counts.

The import is all or nothing: the rows are written in one transaction, with the audit entry and the
queued e-mail of the report to the tenant's notification list.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from bolletta.platform import audit, clock, tasks
from bolletta.platform.contacts.masking import masked_reason
from bolletta.platform.db.models.tenant import Contact
from bolletta.platform.i18n.message import T_, Text, to_json
from bolletta.platform.ingest import contacts as contacts_csv
from bolletta.platform.ingest.errors import ContactsFileRejected
from bolletta.platform.ingest.records import ParsedContact, Rejection
from bolletta.platform.runtime import Runtime

logger = logging.getLogger(__name__)

SOURCE = "directory"
SFTP_FOLDER = "contatti"
"""SFTP folder, at the top of the tenant's area, whose files are contacts CSVs for the directory."""
PHONE_CHANNELS = ("sms", "whatsapp")
BATCH = 500
"""Customer codes bound in one ``IN`` list, and contacts inserted in one statement."""
MAILED_REJECTIONS = 100
"""Rejected values listed in the e-mail; the API and the backoffice list them all."""


@dataclass(frozen=True)
class RejectedValue:
    """One value of the file that was not stored: where, the masked value and why."""

    row: int | None
    field: str
    value: str
    """The value as the file has it, masked when it is a contact; empty when the cell was empty."""
    reason: Text

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form the API and the queued e-mail use."""
        return {"row": self.row, "field": self.field, "value": self.value, "reason": to_json(self.reason)}


@dataclass
class ImportReport:
    """The outcome of one contacts CSV import."""

    filename: str
    origin: str
    """``sftp``, ``office`` or ``api``."""
    rows_read: int = 0
    """Data rows with at least one non-empty cell (the header and empty rows are not counted)."""
    contacts_stored: int = 0
    customers: int = 0
    """Customer codes that got at least one contact."""
    rejected: list[RejectedValue] = field(default_factory=list)
    file_error: Text | None = None
    """The reason the whole file was rejected, in which case nothing was stored."""

    def to_json(self, max_rejected: int | None = None) -> dict[str, Any]:
        """Return the report as JSON values, listing at most ``max_rejected`` rejected values."""
        listed = self.rejected if max_rejected is None else self.rejected[:max_rejected]
        return {
            "filename": self.filename, "origin": self.origin, "rows_read": self.rows_read,
            "contacts_stored": self.contacts_stored, "customers": self.customers,
            "rejected_count": len(self.rejected), "rejected": [item.to_json() for item in listed],
            "file_error": to_json(self.file_error) if self.file_error is not None else None,
        }


def is_directory_upload(relative: str) -> bool:
    """True for an SFTP path inside the ``contatti/`` folder (any letter case), at any depth."""
    parts = PurePosixPath(relative).parts
    return len(parts) > 1 and parts[0].casefold() == SFTP_FOLDER


def import_contacts(
    rt: Runtime, tenant: str, data: bytes, filename: str, *, origin: str, actor: str,
    user_id: int | None = None, ip: str = "",
) -> ImportReport:
    """Import a contacts CSV into the directory, audit it and queue the report e-mail; return the report.

    A file rejected as a whole stores nothing but is still audited and reported.
    """
    report = ImportReport(filename=filename, origin=origin)
    parsed: list[ParsedContact] = []
    try:
        parsed, rejections = contacts_csv.read_contacts(data, filename)
    except ContactsFileRejected as exc:
        report.file_error = exc.text
    else:
        _fill_report(report, data, parsed, rejections)

    with rt.db.tenant_session(tenant) as session:
        if report.file_error is None:
            report.contacts_stored, report.customers = _store(session, parsed)
        audit.record(
            session, actor=actor, user_id=user_id, action="contacts.import", target=f"file:{filename}", ip=ip,
            detail={"origin": origin, "size": len(data), "rows_read": report.rows_read,
                    "contacts_stored": report.contacts_stored, "rejected": len(report.rejected),
                    "file_rejected": report.file_error is not None},
        )
        tasks.defer(session, "notify_contacts_import", tenant, report.to_json(MAILED_REJECTIONS))
        session.commit()
    logger.info("tenant %s: contacts file %s from %s: %d rows, %d contacts stored, %d values rejected%s",
                tenant, filename, origin, report.rows_read, report.contacts_stored, len(report.rejected),
                ", file rejected" if report.file_error is not None else "")
    return report


def _fill_report(
    report: ImportReport, data: bytes, parsed: list[ParsedContact], rejections: list[Rejection]
) -> None:
    """Count the data rows, and list the rejected values and the rows that gave nothing usable."""
    rows = _data_rows(data, report.filename)
    report.rows_read = len(rows)
    for rejection in rejections:
        reason, value = masked_reason(rejection.reason)
        row = int(rejection.record) if rejection.record and rejection.record.isdigit() else None
        report.rejected.append(RejectedValue(row=row, field=rejection.field or "", value=value, reason=reason))
    used = {contact.row for contact in parsed} | {item.row for item in report.rejected}
    for number in rows:
        if number not in used:
            report.rejected.append(RejectedValue(
                row=number, field="", value="",
                reason=T_("{file}, row {row}: the row has a customer code but no mobile number or e-mail address. "
                          "Fill in a contact or remove the row.", file=report.filename, row=number),
            ))
    report.rejected.sort(key=lambda item: item.row or 0)


def _data_rows(data: bytes, filename: str) -> list[int]:
    """Return the spreadsheet row numbers (header = 1) of the data rows with a non-empty cell.

    The file is decoded and split as ``read_contacts`` did, which already accepted it, so this
    raises nothing.
    """
    # NOTE: these helpers are private to the CSV reader; they are reused so that the count follows
    # the reader's decoding and delimiter rules exactly.
    text = contacts_csv._decode(data, filename)
    header_line = next((line for line in text.splitlines() if line.strip()), "")
    rows = contacts_csv._read_rows(text, contacts_csv._sniff_delimiter(header_line), filename)
    return [number for number, row in enumerate(rows[1:], start=2) if any(cell.strip() for cell in row)]


def _store(session: Session, parsed: list[ParsedContact]) -> tuple[int, int]:
    """Replace the directory contacts of the file's customers; return contacts and customers stored."""
    latest: dict[tuple[str, str, str], ParsedContact] = {}
    for contact in parsed:
        key = (contact.customer_code, contact.channel, contact.address)
        latest.pop(key, None)  # re-inserted, so the last row's language and order win
        latest[key] = contact

    with_phone = sorted({code for code, channel, _ in latest if channel in PHONE_CHANNELS})
    with_email = sorted({code for code, channel, _ in latest if channel == "email"})
    for codes, channels in ((with_phone, PHONE_CHANNELS), (with_email, ("email",))):
        for start in range(0, len(codes), BATCH):
            session.execute(
                delete(Contact).where(
                    Contact.source == SOURCE,
                    Contact.customer_code.in_(codes[start : start + BATCH]),
                    Contact.channel.in_(channels),
                )
            )

    now = clock.now()
    rows = [
        {"customer_code": contact.customer_code, "channel": contact.channel, "address": contact.address,
         "language": contact.language, "source": SOURCE, "job_id": None, "created_at": now}
        for contact in latest.values()
    ]
    for start in range(0, len(rows), BATCH):
        session.execute(insert(Contact), rows[start : start + BATCH])
    return len(rows), len({contact.customer_code for contact in latest.values()})
