"""Streaming reading of a billing flow: bills are yielded entry by entry, never collected.

Memory contains one archive entry and its bills at a time, plus indexes: the entry names of the ZIP
central directory and, in an archive that mixes FatturaPA with JSON Lines, the JSON Lines records
and the FatturaPA bills whose document number one of them carries. The order of work is:

1. the central directory is checked and every name is classified, without inflating anything;
2. contacts CSV files are read first, wherever they sit in the archive;
3. when the archive also has FatturaPA files, every JSON Lines file is read, because its records
   enrich the FatturaPA bills with the same document number;
4. FatturaPA files are read one at a time and their bills yielded at once, with the PDF whose name
   matches inflated at that moment. A bill that a record enriches is held until the last file,
   because enrichment needs every FatturaPA bill with that number;
5. without FatturaPA files, each JSON Lines file is read line by line and each record yielded as
   it is read;
6. files that a third-party flow plugin claims are read one at a time and their bills yielded;
7. PDFs that no bill took are inflated to check them and reported as ignored.

Entries are matched to readers by the flow plugins' ``patterns`` (group ``bolletta.flows``): the
built-in FatturaPA, signed FatturaPA and JSON Lines readers first, then the tenant's contacts file
pattern, then the third-party readers the tenant accepts.

A bad file never stops the others: its problem is yielded as a ``Rejection``. Only a problem with the
archive itself raises ``ArchiveRejected``, possibly after bills were yielded.
"""

from __future__ import annotations

import fnmatch
import io
import logging
import re
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from pathlib import Path, PurePosixPath

from bolletta.flows.base import FlowOptions, FlowReader
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
from bolletta.platform.ingest.cost_categories import (
    checked_cost_rules,
    checked_costs_layout,
    layout_of_rules,
)
from bolletta.platform.ingest.enrich import enrich_bills
from bolletta.platform.ingest.errors import ContactsFileRejected
from bolletta.platform.ingest.fatturapa_lines import DEFAULT_SUPPLY_ADDRESS_TYPES
from bolletta.platform.ingest.flow_readers import BUILTIN_FLOW_IDS, BUILTIN_FLOW_READERS, JsonlFlowReader
from bolletta.platform.ingest.jsonl import JsonlReading, PdfReference, iter_jsonl, pdf_paths
from bolletta.platform.ingest.records import (
    Attachment,
    IgnoredEntry,
    ParsedBill,
    ParsedContact,
    Rejection,
)
from bolletta.platform.plugins import PluginSet, load_plugins

FlowItem = ParsedBill | ParsedContact | Rejection | IgnoredEntry
"""One thing :func:`iter_flow` yields."""

FLOW_PLUGIN_GROUP = "bolletta.flows"

logger = logging.getLogger(__name__)

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
    cost_rules: Iterable[Sequence[str]] = (),
    costs_layout: str | None = None,
    xsd_dir: str | Path | None = None,
    contacts_pattern: str = DEFAULT_CONTACTS_PATTERN,
    flow_formats: Collection[str] = BUILTIN_FLOW_IDS,
    plugins: PluginSet[FlowReader] | None = None,
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

    ``flow_formats`` lists the ids of the flow plugins whose files are read; an entry that only an
    unlisted plugin would read is reported as ignored. ``plugins`` replaces the plugins installed
    under group ``bolletta.flows``, for tests. The built-in readers are used even when their entry
    points are missing, and a plugin that failed to load is logged by the loader and skipped.

    Raises:
        ArchiveRejected: the archive as a whole cannot be used (see :func:`iter_archive`). It can be
            raised after some items were yielded; the caller must then drop them.
        ValueError: a mapping setting is not valid (see :func:`read_fatturapa`), or ``costs_layout``
            is not ``summary_2016`` or ``receipt_2025``.
    """
    limits = limits or ArchiveLimits()
    rule_list = list(cost_rules)
    layout = checked_costs_layout(costs_layout or layout_of_rules(rule_list))
    options = FlowOptions(
        series_pattern=re.compile(series_pattern) if isinstance(series_pattern, str) else series_pattern,
        customer_code_source=customer_code_source,
        supply_address_types=tuple(supply_address_types),
        cost_rules=checked_cost_rules(rule_list, layout),
        costs_layout=layout,
        attachment_max_bytes=limits.attachment_max_bytes,
        xsd_dir=Path(xsd_dir) if xsd_dir else None,
    )
    readers = flow_readers(flow_formats, plugins)
    stream_args = (readers, options, contacts_pattern.lower(), positions)

    if filename.lower().endswith(BARE_FILE_SUFFIXES):
        [item] = iter_archive(source, filename, limits)
        yield from _FlowStream(_BareEntry(item), *stream_args).items()
        return
    with open_archive(source, filename, limits) as archive:
        yield from _FlowStream(_ZipEntries(archive), *stream_args).items()


def flow_readers(flow_formats: Collection[str], plugins: PluginSet[FlowReader] | None = None) -> list[FlowReader]:
    """Create the readers of the accepted formats: the built-in ones first, then the others by id.

    ``plugins`` defaults to the plugins installed under group ``bolletta.flows``.

    Raises:
        ValueError: ``flow_formats`` is a single string rather than a list of ids.
    """
    if isinstance(flow_formats, str):
        raise ValueError(f"flow_formats must be a list of flow plugin ids, not {flow_formats!r}")
    if plugins is None:
        plugins = load_plugins(FLOW_PLUGIN_GROUP, FlowReader)  # type: ignore[type-abstract]
    loaded = plugins.plugins
    builtin = {reader.id: reader for reader in BUILTIN_FLOW_READERS}
    accepted = set(flow_formats)
    ordered = [*BUILTIN_FLOW_IDS, *(plugin_id for plugin_id in loaded if plugin_id not in builtin)]

    readers: list[FlowReader] = []
    for plugin_id in ordered:
        if plugin_id not in accepted:
            continue
        reader_class = loaded.get(plugin_id) or builtin.get(plugin_id)
        if reader_class is None:
            continue
        if plugin_id in builtin and plugin_id not in loaded:
            logger.warning("built-in flow plugin %s has no entry point; reinstall the package", plugin_id)
        readers.append(reader_class())
    for plugin_id in sorted(accepted - set(ordered)):
        logger.warning("flow format %s is accepted but no flow plugin with that id is loaded", plugin_id)
    return readers


class _ZipEntries:
    """The file entries of a checked ZIP archive, by name."""

    def __init__(self, archive: OpenArchive) -> None:
        self._archive = archive
        self._infos = {info.filename: info for info in archive.members}
        self.names = list(self._infos)

    def read(self, name: str) -> ArchiveEntry | Rejection:
        return self._archive.read(self._infos[name])

    def check(self, name: str) -> Rejection | None:
        return self._archive.check(self._infos[name])

    def lines(self, name: str) -> Iterator[bytes]:
        return self._archive.lines(self._infos[name])


class _BareEntry:
    """An upload that is one flow file, already read."""

    def __init__(self, item: ArchiveEntry | Rejection) -> None:
        self._item = item
        self.names = [item.name if isinstance(item, ArchiveEntry) else item.file]

    def read(self, name: str) -> ArchiveEntry | Rejection:
        return self._item

    def check(self, name: str) -> Rejection | None:
        return self._item if isinstance(self._item, Rejection) else None

    def lines(self, name: str) -> Iterator[bytes]:
        assert isinstance(self._item, ArchiveEntry), "check() rejected the entry"
        return iter(io.BytesIO(self._item.content))


_Entries = _ZipEntries | _BareEntry


class _FlowStream:
    def __init__(
        self,
        entries: _Entries,
        readers: list[FlowReader],
        options: FlowOptions,
        contacts_pattern: str,
        positions: dict[int, int] | None,
    ) -> None:
        self.entries = entries
        self.positions = positions
        self.builtin_readers = [reader for reader in readers if reader.id in BUILTIN_FLOW_IDS]
        self.other_readers = [reader for reader in readers if reader.id not in BUILTIN_FLOW_IDS]
        self.options = options
        self.contacts_pattern = contacts_pattern
        self.pdfs = _PdfPool(entries)
        self.reader_of: dict[str, FlowReader] = {}
        """The reader chosen for each bill file, by entry name."""

    def items(self) -> Iterator[FlowItem]:
        files: dict[str, list[str]] = {"bill": [], "jsonl": [], "contacts": [], "plugin": []}
        for name in self.entries.names:
            kind = self._classify(name)
            if kind == "pdf":
                self.pdfs.add(name)
            elif kind is not None:
                files[kind].append(name)
            else:
                yield IgnoredEntry(
                    file=name, reason=T_("not a bill, contacts or PDF file, so it was not read")
                )
        bill_files, jsonl_files, contact_files, plugin_files = (
            files["bill"], files["jsonl"], files["contacts"], files["plugin"]
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
                    flows.append(JsonlFlowReader().read_records(item.content, item.name))
            yield from self._read_fatturapa(bill_files, flows)
        else:
            for name in jsonl_files:
                yield from self._read_jsonl_alone(name)

        for name in plugin_files:
            yield from self._read_plugin_file(name)

        yield from self.pdfs.unused()

    def _classify(self, name: str) -> str | None:
        """Return which step reads entry ``name``, and remember its reader for bill and plugin files."""
        base_name = _base_name(name)
        builtin = _claiming_reader(self.builtin_readers, base_name)
        if isinstance(builtin, JsonlFlowReader):
            return "jsonl"
        if builtin is not None:
            self.reader_of[name] = builtin
            return "bill"
        if fnmatch.fnmatchcase(base_name.lower(), self.contacts_pattern):
            return "contacts"
        other = _claiming_reader(self.other_readers, base_name)
        if other is not None:
            self.reader_of[name] = other
            return "plugin"
        if name.lower().endswith(".pdf"):
            return "pdf"
        return None

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

    def _read_jsonl_alone(self, name: str) -> Iterator[FlowItem]:
        """Read a JSON Lines file that enriches no FatturaPA bill, yielding each record as it is read.

        Memory contains one line and its bill. The file is inflated up to three times: to check it
        against the caps, to reserve the PDFs its records name (only when the archive has PDFs) and to
        read it.
        """
        rejection = self.entries.check(name)
        if rejection is not None:
            yield rejection
            return
        if self.pdfs.has_pdfs():
            self.pdfs.reserve(pdf_paths(self.entries.lines(name)))

        # The file's own name never names a PDF: that match is for XML files only (formats.md, section 5).
        for reading in iter_jsonl(self.entries.lines(name), name):
            yield from reading.contacts
            yield from reading.rejected
            self.pdfs.attach_referenced(reading.pdf_references)
            for bill in reading.bills:
                self._place(bill)
                self.pdfs.attach_by_name(bill, single_bill_file=False)
                yield bill
            yield from self.pdfs.notices()

    def _place(self, bill: ParsedBill) -> None:
        if self.positions is not None:
            self.positions[id(bill)] = len(self.positions)

    def _read_bill_file(self, entry: ArchiveEntry) -> tuple[list[ParsedBill], list[Rejection]]:
        reading = self.reader_of[entry.name].read(entry.content, entry.name, self.options)
        return reading.bills, reading.rejected

    def _read_plugin_file(self, name: str) -> Iterator[FlowItem]:
        """Read one file with a third-party reader; an exception rejects the file, naming the plugin."""
        item = self.entries.read(name)
        if isinstance(item, Rejection):
            yield item
            return
        reader = self.reader_of[name]
        try:
            reading = reader.read(item.content, item.name, self.options)
        except Exception as exc:  # a plugin bug must reject its file, not the whole flow
            logger.exception("flow plugin %s failed on %s", reader.id, item.name)
            yield Rejection(file=item.name, reason=T_(
                "{file} could not be read because the flow plugin {plugin} failed ({error}). Tell the "
                "platform operator, who can update or disable the plugin.",
                file=item.name, plugin=reader.id, error=type(exc).__name__,
            ))
            return
        yield from reading.contacts
        yield from reading.rejected
        # NOTE: JSON Lines records do not enrich bills from third-party readers, only FatturaPA bills.
        bills_per_file = Counter(bill.source_file for bill in reading.bills)
        for bill in reading.bills:
            self._place(bill)
            self.pdfs.attach_by_name(bill, single_bill_file=bills_per_file[bill.source_file] == 1)
            yield bill
        yield from self.pdfs.notices()

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


def _claiming_reader(readers: list[FlowReader], base_name: str) -> FlowReader | None:
    return next((reader for reader in readers if reader.claims(base_name)), None)


_SLASH_OR_SPACE = re.compile(r"[/\s]")


def pdf_stem_for_number(document_number: str) -> str:
    """Return the PDF base name (without ``.pdf``) expected for a document number."""
    return _SLASH_OR_SPACE.sub("_", document_number)


def _base_name(name: str) -> str:
    """Return ``PurePosixPath(name).name`` without building the path in the usual case."""
    last = name.rpartition("/")[2]
    # PurePosixPath drops empty and "." segments, so only then does its last part differ.
    if last and last != ".":
        return last
    return PurePosixPath(name).name


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

    def has_pdfs(self) -> bool:
        return bool(self._by_path)

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
            stems.append(_base_name(bill.source_file).casefold().removesuffix(".p7m").removesuffix(".xml"))
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
