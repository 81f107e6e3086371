"""Archive reading against crafted hostile ZIP files."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest

from bolletta.platform.i18n.message import render
from bolletta.platform.ingest.archive import ArchiveEntry, ArchiveLimits, iter_archive
from bolletta.platform.ingest.errors import ArchiveRejected
from bolletta.platform.ingest.records import Rejection
from bolletta.platform.settings import Settings

PDF = b"%PDF-1.4\n%fake but well-started\n"


def build_zip(files: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def read_all(data: bytes, limits: ArchiveLimits | None = None) -> list[ArchiveEntry | Rejection]:
    return list(iter_archive(data, "flow.zip", limits))


def italian_reason(data: bytes, limits: ArchiveLimits | None = None) -> str:
    """Read ``data``, expecting the whole archive to be rejected, and return the reason in Italian."""
    with pytest.raises(ArchiveRejected) as raised:
        read_all(data, limits)
    return render(raised.value.text)


def test_nested_folders_yield_entries() -> None:
    items = read_all(build_zip({"a/b/bill.pdf": PDF, "notes.txt": b"hello", "dir/": b""}))
    assert items == [ArchiveEntry("a/b/bill.pdf", PDF), ArchiveEntry("notes.txt", b"hello")]


@pytest.mark.parametrize("name", ["../../app/evil.py", "/tmp/x", "..\\x", "C:/windows/x.xml", "a/../b.pdf"])
def test_unsafe_name_rejects_archive(name: str) -> None:
    data = build_zip({"good.pdf": PDF, name: b"x"})
    reason = italian_reason(data)
    assert reason.startswith("flow.zip è stato scartato perché non sicuro: la voce ")
    assert "Crea l'archivio da file normali con percorsi relativi" in reason


def test_symlink_rejects_archive() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        link = zipfile.ZipInfo("link.pdf")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    reason = italian_reason(buffer.getvalue())
    assert "la voce 'link.pdf' è un collegamento simbolico" in reason


def test_case_only_duplicate_rejects_archive() -> None:
    data = build_zip({"A.pdf": PDF, "a.pdf": PDF})
    reason = italian_reason(data)
    assert "contiene sia 'A.pdf' sia 'a.pdf'" in reason
    assert "differiscono al più per maiuscole e minuscole" in reason


def test_exact_duplicate_rejects_archive() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive, pytest.warns(UserWarning, match="Duplicate name"):
        archive.writestr("bill.pdf", PDF)
        archive.writestr("bill.pdf", PDF)
    reason = italian_reason(buffer.getvalue())
    assert "contiene sia 'bill.pdf' sia 'bill.pdf'" in reason


def test_too_many_entries_rejects_archive() -> None:
    data = build_zip({f"{index}.txt": b"" for index in range(11)})
    reason = italian_reason(data, ArchiveLimits(max_entries=10))
    assert reason == "flow.zip contiene 11 voci, più del limite di 10. Dividi il flusso in più archivi."


def test_zip_bomb_entry_rejected_by_ratio() -> None:
    data = build_zip({"bomb.xml": b"<" + b"\0" * (20 * 1024 * 1024), "bill.pdf": PDF})
    items = read_all(data)
    assert isinstance(items[0], Rejection)
    assert items[0].file == "bomb.xml"
    reason = render(items[0].reason)
    assert "bomb.xml, decompresso, supera di oltre 200 volte la sua dimensione compressa" in reason
    assert "Comprimilo normalmente e caricalo di nuovo." in reason
    assert items[1] == ArchiveEntry("bill.pdf", PDF)


def test_entry_over_cap_rejected_alone() -> None:
    data = build_zip({"big.pdf": PDF + b"x" * 5000, "ok.pdf": PDF})
    items = read_all(data, ArchiveLimits(max_entry_bytes=1000))
    assert isinstance(items[0], Rejection)
    assert render(items[0].reason) == (
        "big.pdf supera il limite di 1000 byte per un singolo file. "
        "Dividilo o chiedi al gestore della piattaforma di alzare il limite."
    )
    assert items[1] == ArchiveEntry("ok.pdf", PDF)


def test_lying_declared_size_rejects_archive() -> None:
    data = bytearray(build_zip({"big.pdf": PDF + b"x" * 5000}))
    # Make the central directory claim 10 uncompressed bytes, as a crafted archive would.
    directory = bytes(data).index(b"PK\x01\x02")
    data[directory + 24 : directory + 28] = (10).to_bytes(4, "little")
    reason = italian_reason(bytes(data), ArchiveLimits(max_entry_bytes=1000))
    assert "flow.zip è danneggiato o manipolato: la voce 'big.pdf' non si può leggere" in reason


def test_total_cap_rejects_archive() -> None:
    data = build_zip({"a.pdf": PDF + b"a" * 600, "b.pdf": PDF + b"b" * 600})
    reason = italian_reason(data, ArchiveLimits(max_total_bytes=1000))
    assert "limite di 1000 byte. Dividi il flusso in più archivi." in reason


def test_magic_bytes_checked() -> None:
    data = build_zip({"invoice.pdf": b"<html><script>", "bill.xml": PDF, "ok.xml": b"\xef\xbb\xbf \n<a/>"})
    items = read_all(data)
    assert isinstance(items[0], Rejection)
    assert render(items[0].reason).startswith("invoice.pdf ha estensione .pdf ma non inizia con %PDF.")
    assert isinstance(items[1], Rejection)
    assert render(items[1].reason).startswith("bill.xml ha estensione .xml ma non inizia come un documento XML.")
    assert items[2] == ArchiveEntry("ok.xml", b"\xef\xbb\xbf \n<a/>")


def test_not_a_zip_rejected() -> None:
    reason = italian_reason(b"this is plain text")
    assert reason.startswith("flow.zip non è un archivio ZIP leggibile (")
    assert reason.endswith("Invia un file ZIP, oppure un singolo file .xml, .xml.p7m, .jsonl o .csv.")


def test_corrupted_entry_rejects_archive() -> None:
    data = bytearray(build_zip({"bill.xml": b"<a>" + b"text " * 400 + b"</a>"}))
    data[40:60] = b"\xff" * 20
    reason = italian_reason(bytes(data))
    assert "flow.zip è danneggiato o manipolato: la voce 'bill.xml' non si può leggere" in reason


def test_bare_xml_is_one_entry(tmp_path: Path) -> None:
    path = tmp_path / "upload.xml"
    path.write_bytes(b"<a/>")
    assert list(iter_archive(path, "IT01_1.XML")) == [ArchiveEntry("IT01_1.XML", b"<a/>")]


def test_limits_from_settings() -> None:
    limits = ArchiveLimits.from_settings(Settings(archive_max_entries=7, attachment_max_bytes=99))
    assert limits.max_entries == 7
    assert limits.attachment_max_bytes == 99
    assert limits.max_ratio == Settings().archive_max_ratio
    assert ArchiveLimits() == ArchiveLimits.from_settings(Settings())
