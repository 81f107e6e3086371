"""The built-in flow plugins: FatturaPA, signed FatturaPA (``.xml.p7m``) and the JSON Lines flow.

They are declared as entry points of group ``bolletta.flows`` like any third-party reader, so the
tenant's list of accepted formats selects them by id. The flow stream still calls
:meth:`JsonlFlowReader.read_records` rather than :meth:`JsonlFlowReader.read`, because merging the
records into FatturaPA bills needs every file of the archive and the PDF paths the records name.
"""

from __future__ import annotations

from typing import ClassVar

from bolletta.flows.base import FileReading, FlowOptions, FlowReader
from bolletta.platform.ingest.enrich import enrich_bills
from bolletta.platform.ingest.fatturapa import read_fatturapa
from bolletta.platform.ingest.jsonl import JsonlReading, read_jsonl
from bolletta.platform.ingest.p7m import SIGNATURE_NOT_VERIFIED, SignedFileRejected, unwrap_p7m
from bolletta.platform.ingest.records import Rejection


class FatturapaFlowReader(FlowReader):
    """FatturaPA XML files, one bill per ``FatturaElettronicaBody``."""

    id: ClassVar[str] = "fatturapa"
    name: ClassVar[str] = "FatturaPA"
    version: ClassVar[str] = "1"
    patterns: ClassVar[tuple[str, ...]] = ("*.xml",)
    contract_version: ClassVar[int] = 1

    def read(self, data: bytes, source_file: str, options: FlowOptions) -> FileReading:
        bills, rejected = read_fatturapa(
            data,
            source_file,
            series_pattern=options.series_pattern,
            customer_code_source=options.customer_code_source,
            attachment_max_bytes=options.attachment_max_bytes,
            cost_rules=options.cost_rules,
            costs_layout=options.costs_layout,
            supply_address_types=options.supply_address_types,
            xsd_dir=options.xsd_dir,
        )
        return FileReading(bills=bills, rejected=rejected)


class SignedFatturapaFlowReader(FatturapaFlowReader):
    """FatturaPA files in a CAdES envelope; every bill gets a "signature not verified" warning."""

    id: ClassVar[str] = "fatturapa_signed"
    name: ClassVar[str] = "FatturaPA signed (.xml.p7m)"
    patterns: ClassVar[tuple[str, ...]] = ("*.xml.p7m",)

    def read(self, data: bytes, source_file: str, options: FlowOptions) -> FileReading:
        try:
            xml = unwrap_p7m(data, source_file)
        except SignedFileRejected as exc:
            return FileReading(rejected=[Rejection(file=source_file, reason=exc.text)])
        reading = super().read(xml, source_file, options)
        for bill in reading.bills:
            bill.warnings = [*bill.warnings, SIGNATURE_NOT_VERIFIED.with_params(file=source_file)]
        return reading


class JsonlFlowReader(FlowReader):
    """The Bolletta Smart JSON Lines flow, one bill per line."""

    id: ClassVar[str] = "jsonl"
    name: ClassVar[str] = "Bolletta Smart JSON Lines"
    version: ClassVar[str] = "1"
    patterns: ClassVar[tuple[str, ...]] = ("*.jsonl",)
    contract_version: ClassVar[int] = 1

    def read_records(self, data: bytes, source_file: str) -> JsonlReading:
        """Read the file with the PDF paths its records name, for merging into FatturaPA bills."""
        return read_jsonl(data, source_file)

    def read(self, data: bytes, source_file: str, options: FlowOptions) -> FileReading:
        """Read the file on its own: the PDF paths its records name are dropped."""
        enriched = enrich_bills([], [self.read_records(data, source_file)])
        return FileReading(bills=enriched.bills, contacts=enriched.contacts, rejected=enriched.rejected)


BUILTIN_FLOW_READERS: tuple[type[FlowReader], ...] = (
    FatturapaFlowReader,
    SignedFatturapaFlowReader,
    JsonlFlowReader,
)
"""Built-in readers in the order they are tried, which is also the default list of accepted formats."""

BUILTIN_FLOW_IDS: tuple[str, ...] = tuple(reader.id for reader in BUILTIN_FLOW_READERS)
