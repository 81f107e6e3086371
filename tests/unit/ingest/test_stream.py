"""The streaming flow reader: bills come out while later entries are still unread."""

from __future__ import annotations

import inspect
import zipfile
from pathlib import Path

import pytest

from bolletta.platform.demo.bulk_flow import bulk_document_number, write_bulk_flow
from bolletta.platform.ingest import archive as archive_module
from bolletta.platform.ingest.records import ParsedBill
from bolletta.platform.ingest.stream import iter_flow

BILLS = 40


@pytest.fixture(scope="module")
def bulk_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("flow") / "flow.zip"
    write_bulk_flow(path, BILLS, pdf_every=10, pdf_bytes=2048)
    return path


def test_iter_flow_is_generator() -> None:
    assert inspect.isgeneratorfunction(iter_flow)


def test_first_bill_before_last_entry(bulk_archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inflated: list[str] = []
    read = archive_module.OpenArchive.read

    def recording_read(self: archive_module.OpenArchive, info: zipfile.ZipInfo) -> object:
        inflated.append(info.filename)
        return read(self, info)

    monkeypatch.setattr(archive_module.OpenArchive, "read", recording_read)
    items = iter_flow(bulk_archive, "flow.zip")
    first_bill = next(item for item in items if isinstance(item, ParsedBill))

    assert first_bill.document_number == bulk_document_number(0)
    last_xml = f"fatture/IT07182930151_{BILLS - 1:07d}.xml"
    assert last_xml not in inflated
    assert len(inflated) <= 3  # the contacts CSV, the first XML file and its PDF


def test_pdfs_attached_while_streaming(bulk_archive: Path) -> None:
    bills = [item for item in iter_flow(bulk_archive, "flow.zip") if isinstance(item, ParsedBill)]

    assert len(bills) == BILLS
    with_pdf = [bill.document_number for bill in bills if bill.attachments]
    assert with_pdf == [bulk_document_number(index) for index in range(0, BILLS, 10)]


def test_stream_reads_from_bytes_too(bulk_archive: Path) -> None:
    data = bulk_archive.read_bytes()
    from_bytes = [item.document_number for item in iter_flow(data, "flow.zip") if isinstance(item, ParsedBill)]
    from_path = [item.document_number for item in iter_flow(bulk_archive, "flow.zip") if isinstance(item, ParsedBill)]

    assert from_bytes == from_path
