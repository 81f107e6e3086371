"""Reading of a whole billing flow: every archive entry dispatched to its reader by name.

A bad file never stops the others: its problem is returned as a rejection. Only a problem with the
archive itself raises.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path, PurePosixPath

from bolletta.platform.i18n.message import T_
from bolletta.platform.ingest.archive import ArchiveEntry, ArchiveLimits, iter_archive
from bolletta.platform.ingest.contacts import read_contacts
from bolletta.platform.ingest.errors import ContactsFileRejected
from bolletta.platform.ingest.fatturapa import read_fatturapa
from bolletta.platform.ingest.records import Attachment, FlowReading, IgnoredEntry, ParsedBill, Rejection

DEFAULT_CONTACTS_PATTERN = "contacts*.csv"
"""Shell-style pattern, matched case-insensitively on the entry's base name."""


def read_flow(
    source: bytes | Path,
    filename: str,
    limits: ArchiveLimits | None = None,
    *,
    series_pattern: str | re.Pattern[str] | None = None,
    customer_code_source: str = "fiscal_code",
    contacts_pattern: str = DEFAULT_CONTACTS_PATTERN,
) -> FlowReading:
    """Read every entry of an uploaded flow into bills, contacts, rejections and ignored entries.

    ``series_pattern`` and ``customer_code_source`` are passed to :func:`read_fatturapa`. After all
    entries are read, each archive PDF is attached to the bill without an attachment whose document
    number (``/`` and spaces replaced by ``_``) or XML file base name equals the PDF's base name.

    Raises:
        ArchiveRejected: the archive as a whole cannot be used (see :func:`iter_archive`).
        ValueError: ``customer_code_source`` or ``series_pattern`` is not valid.
    """
    limits = limits or ArchiveLimits()
    reading = FlowReading()
    pdfs: dict[str, ArchiveEntry] = {}
    contacts_pattern = contacts_pattern.lower()

    for item in iter_archive(source, filename, limits):
        if isinstance(item, Rejection):
            reading.rejected.append(item)
            continue
        name = item.name.lower()
        base = PurePosixPath(name).name
        if name.endswith(".xml.p7m"):
            reading.rejected.append(
                Rejection(
                    file=item.name,
                    reason=T_(
                        "{file} is a signed FatturaPA file (.xml.p7m), which is not supported yet. "
                        "Send the unsigned .xml file instead.",
                        file=item.name,
                    ),
                )
            )
        elif name.endswith(".xml"):
            bills, rejected = read_fatturapa(
                item.content,
                item.name,
                series_pattern=series_pattern,
                customer_code_source=customer_code_source,
                attachment_max_bytes=limits.attachment_max_bytes,
            )
            reading.bills.extend(bills)
            reading.rejected.extend(rejected)
        elif name.endswith(".jsonl"):
            reading.rejected.append(
                Rejection(
                    file=item.name,
                    reason=T_(
                        "{file} is a JSON Lines flow, which is not supported yet. "
                        "Send the bills as FatturaPA XML.",
                        file=item.name,
                    ),
                )
            )
        elif fnmatch.fnmatchcase(base, contacts_pattern):
            _read_contacts_entry(item, reading)
        elif name.endswith(".pdf"):
            _add_pdf(item, pdfs, reading)
        else:
            reading.ignored.append(
                IgnoredEntry(
                    file=item.name, reason=T_("not a bill, contacts or PDF file, so it was not read")
                )
            )

    _attach_pdfs(reading, pdfs)
    return reading


def _read_contacts_entry(entry: ArchiveEntry, reading: FlowReading) -> None:
    try:
        contacts, rejected = read_contacts(entry.content, entry.name)
    except ContactsFileRejected as exc:
        reading.rejected.append(Rejection(file=entry.name, reason=exc.text))
        return
    reading.contacts.extend(contacts)
    reading.rejected.extend(rejected)


def _add_pdf(entry: ArchiveEntry, pdfs: dict[str, ArchiveEntry], reading: FlowReading) -> None:
    stem = PurePosixPath(entry.name).stem.casefold()
    if stem in pdfs:
        reading.ignored.append(
            IgnoredEntry(
                file=entry.name,
                reason=T_(
                    "another PDF with the same name, {other}, is already used for the bill",
                    other=pdfs[stem].name,
                ),
            )
        )
        return
    pdfs[stem] = entry


def pdf_stem_for_number(document_number: str) -> str:
    """Return the PDF base name (without ``.pdf``) expected for a document number."""
    return re.sub(r"[/\s]", "_", document_number)


def _attach_pdfs(reading: FlowReading, pdfs: dict[str, ArchiveEntry]) -> None:
    used: set[str] = set()
    bills_per_file: dict[str, int] = {}
    for bill in reading.bills:
        bills_per_file[bill.source_file] = bills_per_file.get(bill.source_file, 0) + 1

    for bill in reading.bills:
        if bill.attachments:
            continue
        stem = _matching_stem(bill, pdfs, single_bill_file=bills_per_file[bill.source_file] == 1)
        if stem is None:
            continue
        entry = pdfs[stem]
        bill.attachments.append(Attachment(name=PurePosixPath(entry.name).name, content=entry.content))
        used.add(stem)

    for stem, entry in pdfs.items():
        if stem not in used:
            reading.ignored.append(
                IgnoredEntry(
                    file=entry.name,
                    reason=T_("PDF whose name matches no bill's document number or XML file"),
                )
            )


def _matching_stem(bill: ParsedBill, pdfs: dict[str, ArchiveEntry], *, single_bill_file: bool) -> str | None:
    by_number = pdf_stem_for_number(bill.document_number).casefold()
    if by_number in pdfs:
        return by_number
    # The XML file's name identifies the bill only when the file contains one bill.
    by_file = PurePosixPath(bill.source_file).name.casefold().removesuffix(".xml")
    if single_bill_file and by_file in pdfs:
        return by_file
    return None
