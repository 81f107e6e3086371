"""A JSON Lines file without FatturaPA bills is read line by line, never whole."""

from __future__ import annotations

import io
import json
import tracemalloc
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bolletta.platform.i18n.message import render
from bolletta.platform.ingest import archive as archive_module
from bolletta.platform.ingest.archive import ArchiveLimits
from bolletta.platform.ingest.errors import ArchiveRejected
from bolletta.platform.ingest.records import IgnoredEntry, ParsedBill, ParsedContact, Rejection
from bolletta.platform.ingest.stream import iter_flow

PDF = b"%PDF-1.4\n" + b"0" * 2000 + b"\n%%EOF\n"


def record(index: int, **document: Any) -> dict[str, Any]:
    return {
        "format": "bolletta-smart/1",
        "document": {"number": f"A-{index}", "issue_date": "2024-03-01", "due_date": "2024-03-21",
                     "amount_due": "55.10", **document},
        "customer": {"code": f"C-{index}", "name": "Luca Bianchi",
                     "contacts": [{"channel": "sms", "address": "+393331234567"}]},
        "supply": {"service": "water", "address": "Via Roma 1, 00100 Roma (RM)"},
        "costs": [{"category": "supply", "label": "Servizio acquedotto", "amount": "40.00"}],
    }


def jsonl(records: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(item).encode() + b"\n" for item in records)


def zipped(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_records_come_out_before_the_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "flow.zip"
    path.write_bytes(zipped({"flow.jsonl": jsonl([record(index) for index in range(2000)])}))
    lines_read: list[bytes] = []
    original = archive_module.OpenArchive.lines

    def recording_lines(self: archive_module.OpenArchive, info: zipfile.ZipInfo) -> Iterator[bytes]:
        for line in original(self, info):
            lines_read.append(line)
            yield line

    monkeypatch.setattr(archive_module.OpenArchive, "lines", recording_lines)
    items = iter_flow(path, "flow.zip")
    first_bill = next(item for item in items if isinstance(item, ParsedBill))

    assert first_bill.document_number == "A-0"
    assert len(lines_read) < 10


def test_memory_stays_below_the_file_size(tmp_path: Path) -> None:
    # About 3 MB of records: reading the file whole would hold its bytes and every bill at once.
    content = jsonl([record(index) for index in range(8000)])
    path = tmp_path / "flow.zip"
    path.write_bytes(zipped({"flow.jsonl": content}))

    tracemalloc.start()
    try:
        stored = 0
        for item in iter_flow(path, "flow.zip"):
            stored += isinstance(item, ParsedBill)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert stored == 8000
    # Reading the file whole took 4.5 times its size, besides the file itself. What remains grows
    # with the file too: the index of document numbers kept to reject repeated records.
    assert peak < len(content), f"peak {peak} bytes for a file of {len(content)} bytes"


def test_every_item_of_the_file_is_yielded() -> None:
    records = [record(0), record(1, pdf="docs/a-1.pdf"), record(0)]
    data = zipped({"flow.jsonl": b"\xef\xbb\xbf" + jsonl(records) + b"\n{not json}\n", "docs/a-1.pdf": PDF})

    items = list(iter_flow(data, "flow.zip"))

    bills = [item for item in items if isinstance(item, ParsedBill)]
    assert [bill.document_number for bill in bills] == ["A-0", "A-1"]
    assert [attachment.name for attachment in bills[1].attachments] == ["a-1.pdf"]
    assert len([item for item in items if isinstance(item, ParsedContact)]) == 2
    reasons = [render(item.reason, "en") for item in items if isinstance(item, Rejection)]
    assert len(reasons) == 2
    assert "document A-0 is already on line 1" in reasons[0]
    assert "line 5" in reasons[1]


def test_pdf_reserved_for_later_record() -> None:
    # A-1.pdf matches the first bill's number, but the second record names it as its own PDF.
    records = [record(1), record(2, pdf="A-1.pdf")]
    data = zipped({"flow.jsonl": jsonl(records), "A-1.pdf": PDF})

    bills = [item for item in iter_flow(data, "flow.zip") if isinstance(item, ParsedBill)]

    assert bills[0].attachments == []
    assert [attachment.name for attachment in bills[1].attachments] == ["A-1.pdf"]


def test_pdf_named_like_the_file_is_not_taken() -> None:
    # Only an XML file's name can name its bill's PDF; the PDF is reported as unused.
    data = zipped({"flow.jsonl": jsonl([record(7)]), "flow.pdf": PDF, "A-7.pdf": PDF})

    items = list(iter_flow(data, "flow.zip"))

    [bill] = [item for item in items if isinstance(item, ParsedBill)]
    assert [attachment.name for attachment in bill.attachments] == ["A-7.pdf"]
    assert [item.file for item in items if isinstance(item, IgnoredEntry)] == ["flow.pdf"]


def test_oversized_file_rejected_before_any_record() -> None:
    # The header declares the true size; the cap is lower, and the lines are never read.
    content = jsonl([record(index) for index in range(3000)])
    data = zipped({"flow.jsonl": content})
    limits = ArchiveLimits(max_entry_bytes=len(content) - 1)

    items = list(iter_flow(data, "flow.zip", limits))

    assert not any(isinstance(item, ParsedBill) for item in items)
    [rejection] = [item for item in items if isinstance(item, Rejection)]
    assert "larger than the limit" in render(rejection.reason, "en")


def test_lying_header_rejects_the_archive_before_any_record() -> None:
    content = jsonl([record(index) for index in range(3000)])
    data = bytearray(zipped({"flow.jsonl": content}))
    # Rewrite the uncompressed size in the central directory to 100 bytes.
    directory = data.rindex(b"PK\x01\x02")
    data[directory + 24:directory + 28] = (100).to_bytes(4, "little")

    yielded = []
    with pytest.raises(ArchiveRejected, match="corrupted or crafted"):
        for item in iter_flow(bytes(data), "flow.zip"):
            yielded.append(item)

    assert yielded == []


def test_archive_total_counted_once_per_reading() -> None:
    content = jsonl([record(index) for index in range(500)])
    data = zipped({"flow.jsonl": content})

    # The check before the reading inflates the file too; counting both would pass the limit.
    bills = [item for item in iter_flow(data, "flow.zip", ArchiveLimits(max_total_bytes=len(content)))
             if isinstance(item, ParsedBill)]

    assert len(bills) == 500
