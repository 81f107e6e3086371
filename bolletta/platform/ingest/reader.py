"""Reading of a whole billing flow: every archive entry dispatched to its reader by name.

A bad file never stops the others: its problem is returned as a rejection. Only a problem with the
archive itself raises.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path, PurePosixPath

from bolletta.platform.i18n.message import T_
from bolletta.platform.ingest.archive import ArchiveEntry, ArchiveLimits, iter_archive
from bolletta.platform.ingest.contacts import read_contacts
from bolletta.platform.ingest.cost_categories import DEFAULT_COST_RULES, checked_cost_rules
from bolletta.platform.ingest.enrich import enrich_bills
from bolletta.platform.ingest.errors import ContactsFileRejected
from bolletta.platform.ingest.fatturapa import read_fatturapa
from bolletta.platform.ingest.fatturapa_lines import DEFAULT_SUPPLY_ADDRESS_TYPES
from bolletta.platform.ingest.jsonl import JsonlReading, PdfReference, read_jsonl
from bolletta.platform.ingest.p7m import SIGNATURE_NOT_VERIFIED, SignedFileRejected, unwrap_p7m
from bolletta.platform.ingest.records import Attachment, FlowReading, IgnoredEntry, ParsedBill, Rejection

_XmlReader = Callable[[bytes, str], tuple[list[ParsedBill], list[Rejection]]]

DEFAULT_CONTACTS_PATTERN = "contacts*.csv"
"""Shell-style pattern, matched case-insensitively on the entry's base name."""


def read_flow(
    source: bytes | Path,
    filename: str,
    limits: ArchiveLimits | None = None,
    *,
    series_pattern: str | re.Pattern[str] | None = None,
    customer_code_source: str = "fiscal_code",
    supply_address_types: Collection[str] = DEFAULT_SUPPLY_ADDRESS_TYPES,
    cost_rules: Iterable[Sequence[str]] = DEFAULT_COST_RULES,
    xsd_dir: str | Path | None = None,
    contacts_pattern: str = DEFAULT_CONTACTS_PATTERN,
) -> FlowReading:
    """Read every entry of an uploaded flow into bills, contacts, rejections and ignored entries.

    ``series_pattern``, ``customer_code_source``, ``supply_address_types``, ``cost_rules`` and
    ``xsd_dir`` are passed to :func:`read_fatturapa`. Signed
    ``.xml.p7m`` files are unwrapped first, and their bills get a "signature not verified" warning.
    After all entries are read, each JSON Lines record with the document number of a FatturaPA bill
    is merged into that bill (see :mod:`bolletta.platform.ingest.enrich`). Then PDFs are attached,
    first the archive entry that a record names in ``document.pdf``. A bill still without a PDF gets
    the one whose base name equals its document number (``/`` and spaces replaced by ``_``) or its
    XML file's base name.

    Raises:
        ArchiveRejected: the archive as a whole cannot be used (see :func:`iter_archive`).
        ValueError: a FatturaPA mapping setting is not valid (see :func:`read_fatturapa`).
    """
    limits = limits or ArchiveLimits()
    reading = FlowReading()
    pdfs: dict[str, ArchiveEntry] = {}
    pdf_paths: dict[str, ArchiveEntry] = {}
    flows: list[JsonlReading] = []
    read_xml: _XmlReader = functools.partial(
        read_fatturapa,
        series_pattern=series_pattern,
        customer_code_source=customer_code_source,
        attachment_max_bytes=limits.attachment_max_bytes,
        cost_rules=checked_cost_rules(cost_rules),
        supply_address_types=supply_address_types,
        xsd_dir=xsd_dir,
    )
    contacts_pattern = contacts_pattern.lower()

    for item in iter_archive(source, filename, limits):
        if isinstance(item, Rejection):
            reading.rejected.append(item)
            continue
        name = item.name.lower()
        base = PurePosixPath(name).name
        if name.endswith(".xml.p7m"):
            _read_signed_entry(item, reading, read_xml)
        elif name.endswith(".xml"):
            bills, rejected = read_xml(item.content, item.name)
            reading.bills.extend(bills)
            reading.rejected.extend(rejected)
        elif name.endswith(".jsonl"):
            flows.append(read_jsonl(item.content, item.name))
        elif fnmatch.fnmatchcase(base, contacts_pattern):
            _read_contacts_entry(item, reading)
        elif name.endswith(".pdf"):
            pdf_paths[name] = item
            _add_pdf(item, pdfs, reading)
        else:
            reading.ignored.append(
                IgnoredEntry(
                    file=item.name, reason=T_("not a bill, contacts or PDF file, so it was not read")
                )
            )

    enriched = enrich_bills(reading.bills, flows)
    reading.bills.extend(enriched.bills)
    reading.contacts.extend(enriched.contacts)
    reading.rejected.extend(enriched.rejected)
    _attach_referenced_pdfs(reading, enriched.pdf_references, pdf_paths, pdfs)
    _attach_pdfs(reading, pdfs)
    return reading


def _read_signed_entry(entry: ArchiveEntry, reading: FlowReading, read_xml: _XmlReader) -> None:
    try:
        xml = unwrap_p7m(entry.content, entry.name)
    except SignedFileRejected as exc:
        reading.rejected.append(Rejection(file=entry.name, reason=exc.text))
        return
    bills, rejected = read_xml(xml, entry.name)
    for bill in bills:
        bill.warnings = [*bill.warnings, SIGNATURE_NOT_VERIFIED.with_params(file=entry.name)]
    reading.bills.extend(bills)
    reading.rejected.extend(rejected)


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


def _attach_referenced_pdfs(
    reading: FlowReading,
    references: list[PdfReference],
    pdf_paths: dict[str, ArchiveEntry],
    pdfs: dict[str, ArchiveEntry],
) -> None:
    """Attach the PDF each JSON Lines record names, before any other PDF of its bill.

    The path is looked up among the archive's entry names only (case-insensitively, from the archive
    root), so it can never reach a file outside the archive.
    """
    used: set[str] = set()
    for reference in references:
        path = reference.path.replace("\\", "/").removeprefix("./").casefold()
        entry = pdf_paths.get(path)
        if entry is None:
            reference.bill.warnings = [*reference.bill.warnings, T_(
                "The PDF {path} named in {file}, line {line} is not in the archive, so the bill's PDF comes "
                "from a FatturaPA attachment or the PDF names, or is rendered from its data.",
                path=reference.path, file=reference.bill.source_file, line=reference.line,
            )]
            continue
        reference.bill.attachments = [
            Attachment(name=PurePosixPath(entry.name).name, content=entry.content),
            *reference.bill.attachments,
        ]
        used.add(entry.name)

    # A PDF named by a record is taken out of the matching by name and is not reported as ignored.
    for stem, entry in list(pdfs.items()):
        if entry.name in used:
            del pdfs[stem]
    reading.ignored = [item for item in reading.ignored if item.file not in used]


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
    by_file = PurePosixPath(bill.source_file).name.casefold().removesuffix(".p7m").removesuffix(".xml")
    if single_bill_file and by_file in pdfs:
        return by_file
    return None
