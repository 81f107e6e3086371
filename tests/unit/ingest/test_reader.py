"""Whole-flow reading: dispatch by entry name, bad files isolated, PDFs matched to bills."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from bolletta.platform.i18n.message import render
from bolletta.platform.ingest.archive import ArchiveLimits
from bolletta.platform.ingest.errors import ArchiveRejected
from bolletta.platform.ingest.reader import read_flow

PDF = b"%PDF-1.4\n%test\n"
RIEPILOGO = "oca_l10n_italy/IT05979361218_ripilogoiva.xml"


def build_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def sample(samples_dir: Path, relative: str) -> bytes:
    return (samples_dir / "fatturapa" / relative).read_bytes()


def test_bad_files_do_not_stop_good_ones(samples_dir: Path) -> None:
    files = {f"good/{Path(RIEPILOGO).name}": sample(samples_dir, RIEPILOGO)}
    bad_names = []
    for folder in ("invalid", "malicious"):
        for path in sorted((samples_dir / "fatturapa" / folder).glob("*.xml")):
            files[f"{folder}/{path.name}"] = path.read_bytes()
            bad_names.append(f"{folder}/{path.name}")
    reading = read_flow(build_zip(files), "flow.zip")

    assert "GR20-900443E" in [bill.document_number for bill in reading.bills]
    rejected_files = {item.file for item in reading.rejected}
    for name in ("malicious/billion_laughs.xml", "malicious/jumbo_Causale.xml", "invalid/malformed.xml"):
        assert name in rejected_files
    for item in reading.rejected:
        # Each reason names its file and has an Italian translation.
        assert render(item.reason).startswith(item.file)
        assert render(item.reason) != render(item.reason, "en")
    imported = {bill.source_file for bill in reading.bills}
    # Every bad sample is either rejected with a reason or imported (only transmission data missing).
    assert set(bad_names) <= rejected_files | imported


def test_dispatch_by_entry_name(samples_dir: Path) -> None:
    data = build_zip(
        {
            "IT01234567890_FPR03.xml.p7m": sample(samples_dir, "oca_l10n_italy/IT01234567890_FPR03.xml.p7m"),
            "flow.JSONL": b'{"format": "bolletta-smart/1"}\n',
            "Contacts_2024.CSV": b"codice_anagrafico;cellulare\n03533590174;3331234567\n",
            "readme.txt": b"hello",
            "bill.XML": sample(samples_dir, RIEPILOGO),
        }
    )
    reading = read_flow(data, "flow.zip")
    reasons = {item.file: render(item.reason) for item in reading.rejected}
    assert "IT01234567890_FPR03.xml.p7m" not in reasons
    # The JSON Lines reader got the line: it lacks every required section.
    assert reasons["flow.JSONL"].startswith("flow.JSONL, riga 1:")
    assert [(contact.customer_code, contact.address) for contact in reading.contacts] == [
        ("03533590174", "+393331234567")
    ]
    assert [entry.file for entry in reading.ignored] == ["readme.txt"]
    assert render(reading.ignored[0].reason) == (
        "non è un file di bollette, di recapiti o un PDF, quindi non è stato letto"
    )
    assert [bill.document_number for bill in reading.bills] == ["123", "456", "GR20-900443E"]


def test_pdf_matched_by_document_number(samples_dir: Path) -> None:
    text = sample(samples_dir, RIEPILOGO).replace(b"<Numero>GR20-900443E", b"<Numero>2020/B 7")
    data = build_zip({"bills/one.xml": text, "pdf/2020_B_7.pdf": PDF, "pdf/other.pdf": PDF})
    reading = read_flow(data, "flow.zip")
    [bill] = reading.bills
    assert [(attachment.name, attachment.content) for attachment in bill.attachments] == [
        ("2020_B_7.pdf", PDF)
    ]
    assert [entry.file for entry in reading.ignored] == ["pdf/other.pdf"]


def test_pdf_matched_by_xml_name(samples_dir: Path) -> None:
    data = build_zip(
        {
            "IT05979361218_ripilogoiva.xml": sample(samples_dir, RIEPILOGO),
            "IT05979361218_ripilogoiva.pdf": PDF,
        }
    )
    [bill] = read_flow(data, "flow.zip").bills
    assert [attachment.name for attachment in bill.attachments] == ["IT05979361218_ripilogoiva.pdf"]


def test_bill_with_attachment_keeps_its_own(samples_dir: Path) -> None:
    data = build_zip(
        {"x.xml": sample(samples_dir, "oca_l10n_italy/IT06363391001_00003.xml"), "INV_2016_0015.pdf": PDF}
    )
    reading = read_flow(data, "flow.zip")
    assert [attachment.name for attachment in reading.bills[0].attachments] == ["test1.pdf", "test2.pdf"]
    assert [entry.file for entry in reading.ignored] == ["INV_2016_0015.pdf"]


def test_bad_contacts_file_is_rejection(samples_dir: Path) -> None:
    data = build_zip(
        {"contacts.csv": b"nome;cellulare\nMario;333\n", "bill.xml": sample(samples_dir, RIEPILOGO)}
    )
    reading = read_flow(data, "flow.zip")
    assert len(reading.bills) == 1
    assert reading.rejected[0].file == "contacts.csv"
    assert render(reading.rejected[0].reason).startswith(
        "contacts.csv non ha una colonna con il codice cliente."
    )


def test_bare_xml_upload(samples_dir: Path) -> None:
    reading = read_flow(sample(samples_dir, RIEPILOGO), "IT05979361218_ripilogoiva.xml")
    assert [bill.amount_due for bill in reading.bills] == [Decimal("204.16")]


def test_attachment_cap_from_limits(samples_dir: Path) -> None:
    data = sample(samples_dir, "oca_l10n_italy/IT06363391001_00003.xml")
    reading = read_flow(data, "a.xml", ArchiveLimits(attachment_max_bytes=100))
    assert reading.bills[0].attachments == []
    assert any("più del limite di 100 byte" in render(warning) for warning in reading.bills[0].warnings)


def test_zip_slip_rejects_whole_flow(samples_dir: Path) -> None:
    data = build_zip({"bill.xml": sample(samples_dir, RIEPILOGO), "../../evil.xml": b"<a/>"})
    with pytest.raises(ArchiveRejected) as raised:
        read_flow(data, "flow.zip")
    assert render(raised.value.text).startswith(
        "flow.zip è stato scartato perché non sicuro: la voce '../../evil.xml' ha un segmento '..' nel percorso."
    )
