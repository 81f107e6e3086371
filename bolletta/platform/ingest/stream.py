"""Streaming reading of a billing flow: bills are yielded entry by entry, never collected.

Memory holds one archive entry and its bills at a time, plus indexes: the entry names of the ZIP
central directory and, in an archive that mixes FatturaPA with JSON Lines, the JSON Lines records
and the FatturaPA bills whose document number one of them carries. The order of work is:

1. the central directory is checked and every name is classified, without inflating anything;
2. contacts CSV files are read first, wherever they sit in the archive;
3. when the archive also has FatturaPA files, every JSON Lines file is read, because its records
   enrich the FatturaPA bills with the same document number;
4. FatturaPA files are read one at a time and their bills yielded at once, with the PDF whose name
   matches inflated at that moment. A bill that a record enriches is held until the last file,
   because enrichment needs every FatturaPA bill with that number;
5. without FatturaPA files, each JSON Lines file is read and yielded on its own;
6. PDFs that no bill took are inflated to check them and reported as ignored.

A bad file never stops the others: its problem is yielded as a ``Rejection``. Only a problem with the
archive itself raises ``ArchiveRejected``, possibly after bills were yielded.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from pathlib import Path, PurePosixPath

from bolletta.platform.i18n.message import T_
from bolletta.platform.ingest.archive import (
    BARE_FILE_SUFFIXES,
    ArchiveEntry,
    ArchiveLimits,
    OpenArchive,
    iter_archive,
    open_archive,
)
from bolletta.platform.ingest.contacts import read_contacts
from bolletta.platform.ingest.cost_categories import DEFAULT_COST_RULES, checked_cost_rules
from bolletta.platform.ingest.enrich import enrich_bills
from bolletta.platform.ingest.errors import ContactsFileRejected
from bolletta.platform.ingest.fatturapa import read_fatturapa
from bolletta.platform.ingest.fatturapa_lines import DEFAULT_SUPPLY_ADDRESS_TYPES
from bolletta.platform.ingest.jsonl import JsonlReading, PdfReference, read_jsonl
from bolletta.platform.ingest.p7m import SIGNATURE_NOT_VERIFIED, SignedFileRejected, unwrap_p7m
from bolletta.platform.ingest.records import (
    Attachment,
    IgnoredEntry,
    ParsedBill,
    ParsedContact,
    Rejection,
)

FlowItem = ParsedBill | ParsedContact | Rejection | IgnoredEntry
"""One thing :func:`iter_flow` yields."""

_XmlReader = Callable[[bytes, str], tuple[list[ParsedBill], list[Rejection]]]
_Notice = Rejection | IgnoredEntry

DEFAULT_CONTACTS_PATTERN = "contacts*.csv"
"""Shell-style pattern, matched case-insensitively on the entry's base name."""


def iter_flow(
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
    positions: dict[int, int] | None = None,
) -> Iterator[FlowItem]:
    """Yield the bills, contacts, rejections and ignored entries of an uploaded flow as they are read.

    The options and the rules for enrichment and PDFs are those of
    :func:`bolletta.platform.ingest.reader.read_flow`. Pass a ``Path`` rather than bytes to keep
    the archive itself out of memory.

    Bills come in archive order, except FatturaPA bills that a JSON Lines record enriches: those come
    after the last FatturaPA file. When ``positions`` is given, it is filled with ``id(bill)`` →
    position of each yielded bill in archive order (FatturaPA bills first, then standalone records),
    so a caller that collects every bill can restore that order.

    Raises:
        ArchiveRejected: the archive as a whole cannot be used (see :func:`iter_archive`). It can be
            raised after some items were yielded; the caller must then drop them.
        ValueError: a FatturaPA mapping setting is not valid (see :func:`read_fatturapa`).
    """
    limits = limits or ArchiveLimits()
    read_xml: _XmlReader = functools.partial(
        read_fatturapa,
        series_pattern=series_pattern,
        customer_code_source=customer_code_source,
        attachment_max_bytes=limits.attachment_max_bytes,
        cost_rules=checked_cost_rules(cost_rules),
        supply_address_types=supply_address_types,
        xsd_dir=xsd_dir,
    )
    pattern = contacts_pattern.lower()

    if filename.lower().endswith(BARE_FILE_SUFFIXES):
        [item] = iter_archive(source, filename, limits)
        yield from _FlowStream(_BareEntry(item), read_xml, pattern, positions).items()
        return
    with open_archive(source, filename, limits) as archive:
        yield from _FlowStream(_ZipEntries(archive), read_xml, pattern, positions).items()


class _ZipEntries:
    """The file entries of a checked ZIP archive, by name."""

    def __init__(self, archive: OpenArchive) -> None:
        self._archive = archive
        self._infos = {info.filename: info for info in archive.members}
        self.names = list(self._infos)

    def read(self, name: str) -> ArchiveEntry | Rejection:
        return self._archive.read(self._infos[name])


class _BareEntry:
    """An upload that is one flow file, already read."""

    def __init__(self, item: ArchiveEntry | Rejection) -> None:
        self._item = item
        self.names = [item.name if isinstance(item, ArchiveEntry) else item.file]

    def read(self, name: str) -> ArchiveEntry | Rejection:
        return self._item


_Entries = _ZipEntries | _BareEntry


class _FlowStream:
    def __init__(
        self, entries: _Entries, read_xml: _XmlReader, contacts_pattern: str, positions: dict[int, int] | None
    ) -> None:
        self.entries = entries
        self.positions = positions
        self.read_xml = read_xml
        self.contacts_pattern = contacts_pattern
        self.pdfs = _PdfPool(entries)

    def items(self) -> Iterator[FlowItem]:
        bill_files: list[str] = []
        jsonl_files: list[str] = []
        contact_files: list[str] = []
        for name in self.entries.names:
            lower = name.lower()
            if lower.endswith((".xml.p7m", ".xml")):
                bill_files.append(name)
            elif lower.endswith(".jsonl"):
                jsonl_files.append(name)
            elif fnmatch.fnmatchcase(PurePosixPath(lower).name, self.contacts_pattern):
                contact_files.append(name)
            elif lower.endswith(".pdf"):
                self.pdfs.add(name)
            else:
                yield IgnoredEntry(
                    file=name, reason=T_("not a bill, contacts or PDF file, so it was not read")
                )

        for name in contact_files:
            yield from self._read_contacts(name)

        if bill_files:
            flows: list[JsonlReading] = []
            for name in jsonl_files:
                item = self.entries.read(name)
                if isinstance(item, Rejection):
                    yield item
                else:
                    flows.append(read_jsonl(item.content, item.name))
            yield from self._read_fatturapa(bill_files, flows)
        else:
            for name in jsonl_files:
                item = self.entries.read(name)
                if isinstance(item, Rejection):
                    yield item
                    continue
                # TODO: read the records line by line: a JSON Lines file is still read whole, so one
                # large file costs memory in proportion to its records.
                yield from self._enrich([], [read_jsonl(item.content, item.name)])

        yield from self.pdfs.unused()

    def _read_contacts(self, name: str) -> Iterator[FlowItem]:
        item = self.entries.read(name)
        if isinstance(item, Rejection):
            yield item
            return
        try:
            contacts, rejected = read_contacts(item.content, item.name)
        except ContactsFileRejected as exc:
            yield Rejection(file=item.name, reason=exc.text)
            return
        yield from contacts
        yield from rejected

    def _read_fatturapa(self, bill_files: list[str], flows: list[JsonlReading]) -> Iterator[FlowItem]:
        record_numbers = {bill.document_number for flow in flows for bill in flow.bills}
        # NOTE: every PDF a record names is kept out of the matching by name, also when the record is
        # then rejected; such a PDF is only reported as ignored at the end.
        self.pdfs.reserve(reference.path for flow in flows for reference in flow.pdf_references)
        held: list[tuple[ParsedBill, bool]] = []
        for name in bill_files:
            item = self.entries.read(name)
            if isinstance(item, Rejection):
                yield item
                continue
            bills, rejected = self._read_bill_file(item)
            yield from rejected
            single_bill_file = len(bills) == 1
            for bill in bills:
                self._place(bill)
                if bill.document_number in record_numbers:
                    held.append((bill, single_bill_file))
                    continue
                self.pdfs.attach_by_name(bill, single_bill_file=single_bill_file)
                yield bill
            yield from self.pdfs.notices()
        yield from self._enrich(held, flows)

    def _place(self, bill: ParsedBill) -> None:
        if self.positions is not None:
            self.positions[id(bill)] = len(self.positions)

    def _read_bill_file(self, entry: ArchiveEntry) -> tuple[list[ParsedBill], list[Rejection]]:
        if not entry.name.lower().endswith(".p7m"):
            return self.read_xml(entry.content, entry.name)
        try:
            xml = unwrap_p7m(entry.content, entry.name)
        except SignedFileRejected as exc:
            return [], [Rejection(file=entry.name, reason=exc.text)]
        bills, rejected = self.read_xml(xml, entry.name)
        for bill in bills:
            bill.warnings = [*bill.warnings, SIGNATURE_NOT_VERIFIED.with_params(file=entry.name)]
        return bills, rejected

    def _enrich(self, held: list[tuple[ParsedBill, bool]], flows: list[JsonlReading]) -> Iterator[FlowItem]:
        """Merge the records into the held FatturaPA bills, then yield those and the standalone records."""
        enriched = enrich_bills([bill for bill, _ in held], flows)
        yield from enriched.contacts
        yield from enriched.rejected
        self.pdfs.attach_referenced(enriched.pdf_references)
        for bill, single_bill_file in held:
            self.pdfs.attach_by_name(bill, single_bill_file=single_bill_file)
            yield bill
        bills_per_file = Counter(bill.source_file for bill in enriched.bills)
        for bill in enriched.bills:
            self._place(bill)
            self.pdfs.attach_by_name(bill, single_bill_file=bills_per_file[bill.source_file] == 1)
            yield bill
        yield from self.pdfs.notices()


def pdf_stem_for_number(document_number: str) -> str:
    """Return the PDF base name (without ``.pdf``) expected for a document number."""
    return re.sub(r"[/\s]", "_", document_number)


class _PdfPool:
    """The archive's PDF entries, indexed by name and inflated only when a bill takes one.

    A bill takes first the PDF its JSON Lines record names, else the one whose base name equals its
    document number (``/`` and spaces replaced by ``_``), else, when its file holds only that bill,
    the one named like its XML file. Among PDFs with the same base name the first valid one in
    archive order is used and the others are reported as ignored.
    """

    def __init__(self, entries: _Entries) -> None:
        self._entries = entries
        self._by_stem: dict[str, list[str]] = {}
        self._by_path: dict[str, str] = {}
        self._reserved: set[str] = set()
        self._done: set[str] = set()
        """Names already inflated: attached, rejected or reported."""
        self._notices: list[_Notice] = []

    def add(self, name: str) -> None:
        self._by_stem.setdefault(PurePosixPath(name).stem.casefold(), []).append(name)
        self._by_path[name.casefold()] = name

    def reserve(self, paths: Iterable[str]) -> None:
        """Keep the PDFs at ``paths`` for the records that name them, out of the matching by name."""
        for path in paths:
            name = self._by_path.get(_normalized_path(path))
            if name is not None:
                self._reserved.add(name)

    def notices(self) -> Iterator[_Notice]:
        """Yield and forget the rejections and ignored entries found since the last call."""
        notices, self._notices = self._notices, []
        yield from notices

    def attach_referenced(self, references: list[PdfReference]) -> None:
        """Put the PDF each JSON Lines record names first among its bill's attachments.

        The path is looked up among the archive's entry names only (case-insensitively, from the
        archive root), so it can never reach a file outside the archive.
        """
        inflated: dict[str, ArchiveEntry | None] = {}
        for reference in references:
            name = self._by_path.get(_normalized_path(reference.path))
            if name is not None and name not in inflated:
                inflated[name] = self._read(name)
            entry = inflated.get(name) if name is not None else None
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

    def attach_by_name(self, bill: ParsedBill, *, single_bill_file: bool) -> None:
        """Attach the PDF named after the bill, unless the bill already has one."""
        if bill.attachments:
            return
        stems = [pdf_stem_for_number(bill.document_number).casefold()]
        # The XML file's name identifies the bill only when the file contains one bill.
        if single_bill_file:
            stems.append(PurePosixPath(bill.source_file).name.casefold().removesuffix(".p7m").removesuffix(".xml"))
        for stem in stems:
            entry = self._take(stem)
            if entry is not None:
                bill.attachments.append(Attachment(name=PurePosixPath(entry.name).name, content=entry.content))
                return

    def unused(self) -> Iterator[_Notice]:
        """Inflate and report every PDF that no bill took, then yield the pending notices."""
        for stem in list(self._by_stem):
            entry = self._take(stem)
            if entry is not None:
                self._notices.append(IgnoredEntry(
                    file=entry.name, reason=T_("PDF whose name matches no bill's document number or XML file")
                ))
        for name in sorted(self._reserved - self._done):
            entry = self._read(name)
            if entry is not None:
                self._notices.append(IgnoredEntry(
                    file=entry.name, reason=T_("PDF whose name matches no bill's document number or XML file")
                ))
        yield from self.notices()

    def _take(self, stem: str) -> ArchiveEntry | None:
        """Inflate the first valid PDF with base name ``stem``; report the others with that name."""
        chosen: ArchiveEntry | None = None
        for name in self._by_stem.pop(stem, []):
            if name in self._reserved or name in self._done:
                continue
            if chosen is not None:
                self._done.add(name)
                self._notices.append(IgnoredEntry(file=name, reason=T_(
                    "another PDF with the same name, {other}, is already used for the bill", other=chosen.name
                )))
                continue
            chosen = self._read(name)
        return chosen

    def _read(self, name: str) -> ArchiveEntry | None:
        """Inflate one PDF, or queue its rejection and return ``None``."""
        self._done.add(name)
        item = self._entries.read(name)
        if isinstance(item, Rejection):
            self._notices.append(item)
            return None
        return item


def _normalized_path(path: str) -> str:
    return path.replace("\\", "/").removeprefix("./").casefold()
