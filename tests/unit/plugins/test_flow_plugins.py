"""Flow plugins: built-in readers as entry points, a third-party CSV layout read through read_flow."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import ClassVar

import pytest
from stevedore import ExtensionManager
from stevedore.extension import Extension

from bolletta.flows.base import T_, FileReading, FlowOptions, FlowReader, ParsedBill, Rejection
from bolletta.platform.ingest.flow_readers import BUILTIN_FLOW_IDS, BUILTIN_FLOW_READERS
from bolletta.platform.ingest.reader import read_flow
from bolletta.platform.plugins import PluginLoadError, PluginSet, check_extensions, load_plugins

GROUP = "bolletta.flows"
RIEPILOGO = "oca_l10n_italy/IT05979361218_ripilogoiva.xml"
PDF = b"%PDF-1.4\n%test\n"


class AcmeCsvReader(FlowReader):
    """The example of docs/plugins/flows.md: one bill per row of a semicolon-separated file."""

    id: ClassVar[str] = "acme_csv"
    name: ClassVar[str] = "ACME legacy CSV"
    version: ClassVar[str] = "1.0"
    patterns: ClassVar[tuple[str, ...]] = ("acme_*.csv",)
    contract_version: ClassVar[int] = 1

    def read(self, data: bytes, source_file: str, options: FlowOptions) -> FileReading:
        reading = FileReading()
        rows = csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";")
        for row_number, row in enumerate(rows, start=2):
            try:
                issue_date = date.fromisoformat(row["data"])
                amount = Decimal(row["importo"].replace(",", "."))
            except (KeyError, ValueError, InvalidOperation, AttributeError):
                reading.rejected.append(Rejection(
                    file=source_file, record=str(row_number),
                    reason=T_("{file}, row {row}: the date or the amount is invalid.",
                              file=source_file, row=row_number),
                ))
                continue
            reading.bills.append(ParsedBill(
                source_file=source_file, body_index=row_number, document_number=row["numero"],
                issue_date=issue_date, year=issue_date.year, amount_due=amount,
                customer_code=row["cliente"], customer_name=row["nome"],
            ))
        return reading


class CrashingReader(AcmeCsvReader):
    id: ClassVar[str] = "crashing"
    patterns: ClassVar[tuple[str, ...]] = ("*.crash",)

    def read(self, data: bytes, source_file: str, options: FlowOptions) -> FileReading:
        raise RuntimeError("bug in the plugin")


class OldContractReader(AcmeCsvReader):
    id: ClassVar[str] = "old_contract"
    contract_version: ClassVar[int] = 0


ACME_CSV = (
    b"numero;data;importo;cliente;nome\n"
    b"A-1;2025-03-01;120,50;C001;Mario Rossi\n"
    b"A-2;2025-03-01;not a number;C002;Anna Bianchi\n"
)


def plugin_set(*classes: type[FlowReader]) -> PluginSet[FlowReader]:
    """Check classes as if they were installed under ``bolletta.flows``, next to the built-ins."""
    every_class = [*BUILTIN_FLOW_READERS, *classes]
    extensions = [Extension(cls.id, None, cls, None) for cls in every_class]  # type: ignore[arg-type]
    manager = ExtensionManager.make_test_instance(extensions, namespace=GROUP)
    return check_extensions(GROUP, FlowReader, manager.extensions)  # type: ignore[type-abstract]


def build_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_builtins_are_entry_points() -> None:
    loaded = load_plugins(GROUP, FlowReader)  # type: ignore[type-abstract]

    assert list(loaded.plugins) == list(BUILTIN_FLOW_IDS)
    assert loaded.errors == []


def test_csv_plugin_reads_through_read_flow(samples_dir: Path) -> None:
    data = build_zip({
        "bill.xml": (samples_dir / "fatturapa" / RIEPILOGO).read_bytes(),
        "legacy/ACME_march.CSV": ACME_CSV,
        "A-1.pdf": PDF,
    })
    reading = read_flow(
        data, "flow.zip", flow_formats=[*BUILTIN_FLOW_IDS, "acme_csv"], plugins=plugin_set(AcmeCsvReader)
    )

    assert [bill.document_number for bill in reading.bills][1:] == ["A-1"]
    acme_bill = reading.bills[1]
    assert acme_bill.source_file == "legacy/ACME_march.CSV"
    assert acme_bill.amount_due == Decimal("120.50")
    assert acme_bill.customer_code == "C001"
    assert [attachment.name for attachment in acme_bill.attachments] == ["A-1.pdf"]
    [rejection] = reading.rejected
    assert rejection.file == "legacy/ACME_march.CSV"
    assert rejection.record == "3"
    assert reading.ignored == []


def test_plugin_off_unless_accepted() -> None:
    data = build_zip({"acme_march.csv": ACME_CSV})
    reading = read_flow(data, "flow.zip", plugins=plugin_set(AcmeCsvReader))

    assert reading.bills == []
    assert [entry.file for entry in reading.ignored] == ["acme_march.csv"]


def test_flow_formats_can_drop_builtin(samples_dir: Path) -> None:
    data = build_zip({"bill.xml": (samples_dir / "fatturapa" / RIEPILOGO).read_bytes()})
    reading = read_flow(data, "flow.zip", flow_formats=["jsonl"], plugins=plugin_set())

    assert reading.bills == []
    assert [entry.file for entry in reading.ignored] == ["bill.xml"]


def test_contacts_pattern_wins_over_plugin() -> None:
    data = build_zip({"acme_contacts.csv": b"customer_code;channel;address\n"})
    reading = read_flow(
        data, "flow.zip", contacts_pattern="acme_contacts*.csv", flow_formats=["acme_csv"],
        plugins=plugin_set(AcmeCsvReader),
    )

    assert reading.bills == []
    assert reading.ignored == []


def test_plugin_exception_rejects_its_file(samples_dir: Path) -> None:
    data = build_zip({
        "bill.xml": (samples_dir / "fatturapa" / RIEPILOGO).read_bytes(),
        "data.crash": b"anything",
    })
    reading = read_flow(
        data, "flow.zip", flow_formats=[*BUILTIN_FLOW_IDS, "crashing"], plugins=plugin_set(CrashingReader)
    )

    assert len(reading.bills) == 1
    [rejection] = reading.rejected
    assert rejection.file == "data.crash"
    assert rejection.reason.params["plugin"] == "crashing"
    assert rejection.reason.params["error"] == "RuntimeError"


def test_broken_plugin_named_and_builtins_kept(samples_dir: Path) -> None:
    plugins = plugin_set(OldContractReader)

    [error] = plugins.errors
    assert isinstance(error, PluginLoadError)
    assert error.plugin_id == "old_contract"
    assert list(plugins.plugins) == list(BUILTIN_FLOW_IDS)
    data = build_zip({"bill.xml": (samples_dir / "fatturapa" / RIEPILOGO).read_bytes()})
    reading = read_flow(data, "flow.zip", flow_formats=[*BUILTIN_FLOW_IDS, "old_contract"], plugins=plugins)
    assert len(reading.bills) == 1


def test_missing_builtin_entry_point_falls_back(samples_dir: Path) -> None:
    data = build_zip({"bill.xml": (samples_dir / "fatturapa" / RIEPILOGO).read_bytes()})
    reading = read_flow(data, "flow.zip", plugins=PluginSet())

    assert len(reading.bills) == 1


def test_flow_formats_string_rejected() -> None:
    with pytest.raises(ValueError, match="list of flow plugin ids"):
        read_flow(build_zip({"a.xml": b"<a/>"}), "flow.zip", flow_formats="fatturapa")


def test_claims_ignores_case() -> None:
    assert AcmeCsvReader.claims("ACME_March.Csv")
    assert not AcmeCsvReader.claims("other.csv")
