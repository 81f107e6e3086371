"""Archive reading against crafted hostile ZIP files."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest

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


def test_nested_folders_yield_entries() -> None:
    items = read_all(build_zip({"a/b/bill.pdf": PDF, "notes.txt": b"hello", "dir/": b""}))
    assert items == [ArchiveEntry("a/b/bill.pdf", PDF), ArchiveEntry("notes.txt", b"hello")]


@pytest.mark.parametrize("name", ["../../app/evil.py", "/tmp/x", "..\\x", "C:/windows/x.xml", "a/../b.pdf"])
def test_unsafe_name_rejects_archive(name: str) -> None:
    data = build_zip({"good.pdf": PDF, name: b"x"})
    with pytest.raises(ArchiveRejected, match="unsafe"):
        read_all(data)


def test_symlink_rejects_archive() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        link = zipfile.ZipInfo("link.pdf")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(ArchiveRejected, match="symbolic link"):
        read_all(buffer.getvalue())


def test_case_only_duplicate_rejects_archive() -> None:
    data = build_zip({"A.pdf": PDF, "a.pdf": PDF})
    with pytest.raises(ArchiveRejected, match="differ at most in letter case"):
        read_all(data)


def test_exact_duplicate_rejects_archive() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive, pytest.warns(UserWarning, match="Duplicate name"):
        archive.writestr("bill.pdf", PDF)
        archive.writestr("bill.pdf", PDF)
    with pytest.raises(ArchiveRejected, match=r"bill\.pdf"):
        read_all(buffer.getvalue())


def test_too_many_entries_rejects_archive() -> None:
    data = build_zip({f"{index}.txt": b"" for index in range(11)})
    with pytest.raises(ArchiveRejected, match="11 entries"):
        read_all(data, ArchiveLimits(max_entries=10))


def test_zip_bomb_entry_rejected_by_ratio() -> None:
    data = build_zip({"bomb.xml": b"<" + b"\0" * (20 * 1024 * 1024), "bill.pdf": PDF})
    items = read_all(data)
    assert isinstance(items[0], Rejection)
    assert items[0].file == "bomb.xml"
    assert "200 times" in items[0].reason
    assert items[1] == ArchiveEntry("bill.pdf", PDF)


def test_entry_over_cap_rejected_alone() -> None:
    data = build_zip({"big.pdf": PDF + b"x" * 5000, "ok.pdf": PDF})
    items = read_all(data, ArchiveLimits(max_entry_bytes=1000))
    assert isinstance(items[0], Rejection)
    assert "larger than the limit of 1000 bytes" in items[0].reason
    assert items[1] == ArchiveEntry("ok.pdf", PDF)


def test_lying_declared_size_rejects_archive() -> None:
    data = bytearray(build_zip({"big.pdf": PDF + b"x" * 5000}))
    # Make the central directory claim 10 uncompressed bytes, as a crafted archive would.
    directory = bytes(data).index(b"PK\x01\x02")
    data[directory + 24 : directory + 28] = (10).to_bytes(4, "little")
    with pytest.raises(ArchiveRejected, match="corrupted"):
        read_all(bytes(data), ArchiveLimits(max_entry_bytes=1000))


def test_total_cap_rejects_archive() -> None:
    data = build_zip({"a.pdf": PDF + b"a" * 600, "b.pdf": PDF + b"b" * 600})
    with pytest.raises(ArchiveRejected, match="limit of 1000 bytes"):
        read_all(data, ArchiveLimits(max_total_bytes=1000))


def test_magic_bytes_checked() -> None:
    data = build_zip({"invoice.pdf": b"<html><script>", "bill.xml": PDF, "ok.xml": b"\xef\xbb\xbf \n<a/>"})
    items = read_all(data)
    assert isinstance(items[0], Rejection)
    assert "does not start with %PDF" in items[0].reason
    assert isinstance(items[1], Rejection)
    assert "XML" in items[1].reason
    assert items[2] == ArchiveEntry("ok.xml", b"\xef\xbb\xbf \n<a/>")


def test_not_a_zip_rejected() -> None:
    with pytest.raises(ArchiveRejected, match="not a readable ZIP"):
        read_all(b"this is plain text")


def test_corrupted_entry_rejects_archive() -> None:
    data = bytearray(build_zip({"bill.xml": b"<a>" + b"text " * 400 + b"</a>"}))
    data[40:60] = b"\xff" * 20
    with pytest.raises(ArchiveRejected, match="corrupted"):
        read_all(bytes(data))


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
