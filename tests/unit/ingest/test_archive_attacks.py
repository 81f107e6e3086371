"""Crafted ZIP archives: zip-slip names, bombs with lying or overlapping headers, entry-count bombs."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest

from bolletta.platform.i18n.message import render
from bolletta.platform.ingest import archive as archive_module
from bolletta.platform.ingest.archive import ArchiveEntry, ArchiveLimits, iter_archive
from bolletta.platform.ingest.errors import ArchiveRejected
from bolletta.platform.ingest.records import Rejection

PDF = b"%PDF-1.4\n%test\n"
ZIP_SLIP_NAMES = [
    "../evil.pdf",
    "a/../../evil.pdf",
    "/etc/passwd",
    "//server/share/evil.pdf",
    "..\\evil.pdf",
    "folder\\..\\..\\evil.pdf",
    "C:/Windows/evil.pdf",
    "c:evil.pdf",
    "\uff0e\uff0e/evil.pdf",  # fullwidth full stops, "../" after NFKC
    "\u2025/evil.pdf",  # two dot leader, ".." after NFKC
    "a\uff0f\uff0e\uff0e\uff0fevil.pdf",  # fullwidth solidus around the dots
    "..\u2215evil.pdf",  # division slash
    "..\u2044evil.pdf",  # fraction slash
    "evil\u202efdp.exe",  # right-to-left override, displayed as "evilexe.pdf"
    "bill\u200b.pdf",  # zero width space
    "bill\x1b.pdf",  # escape character
]


def build_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def read_all(data: bytes, limits: ArchiveLimits | None = None) -> list[ArchiveEntry | Rejection]:
    return list(iter_archive(data, "flow.zip", limits))


def rejection_reason(data: bytes, limits: ArchiveLimits | None = None) -> str:
    with pytest.raises(ArchiveRejected) as raised:
        read_all(data, limits)
    return render(raised.value.text, "en")


def local_header(name: bytes, crc: int, compressed: int, size: int) -> bytes:
    return struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, compressed, size, len(name), 0) + name


def central_header(name: bytes, crc: int, compressed: int, size: int, offset: int) -> bytes:
    return (
        struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, compressed, size, len(name), 0, 0, 0, 0, 0,
            offset,
        )
        + name
    )


def end_of_directory(count: int, directory_size: int, directory_offset: int) -> bytes:
    return struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, directory_size, directory_offset, 0)


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def quoted_overlap_bomb(entries: int, kernel_bytes: int) -> tuple[bytes, int]:
    """Build a quoted-overlap zip bomb, and return it with the total size its entries declare.

    Every entry's deflate stream starts with a stored block that quotes the next entry's local
    header, then continues into the next entry's data, so all entries share one compressed kernel.
    """
    names = [f"{index:04d}.xml".encode() for index in range(entries)]
    kernel = raw_deflate(b"<" + b"\0" * (kernel_bytes - 1))
    content = b"<" + b"\0" * (kernel_bytes - 1)

    # Built from the last entry back, because each local header quotes the next one's CRC and size.
    headers: list[bytes] = [b""] * entries
    sizes: list[tuple[int, int, int]] = [(0, 0, 0)] * entries
    stream = kernel
    crc = zlib.crc32(content)
    size = len(content)
    for index in reversed(range(entries)):
        headers[index] = local_header(names[index], crc, len(stream), size)
        sizes[index] = (crc, len(stream), size)
        if index:
            quoted = headers[index]
            stream = struct.pack("<BHH", 0, len(quoted), len(quoted) ^ 0xFFFF) + quoted + stream
            content = quoted + content
            crc = zlib.crc32(content)
            size = len(content)

    body = bytearray()
    offsets = []
    for index in range(entries):
        offsets.append(len(body))
        body += headers[index]
        if index + 1 < entries:
            body += struct.pack("<BHH", 0, len(headers[index + 1]), len(headers[index + 1]) ^ 0xFFFF)
    body += kernel

    directory = b"".join(
        central_header(names[index], *sizes[index], offsets[index]) for index in range(entries)
    )
    data = bytes(body) + directory + end_of_directory(entries, len(directory), len(body))
    return data, sum(size for _, _, size in sizes)


@pytest.mark.parametrize("name", ZIP_SLIP_NAMES)
def test_zip_slip_name_rejects_archive(name: str) -> None:
    data = build_zip({"good.pdf": PDF, name: PDF})

    reason = rejection_reason(data)

    assert reason.startswith("flow.zip was rejected as unsafe: entry ")
    assert reason.endswith("Build the archive from plain files with relative paths and upload it again.")


def test_plain_unicode_names_accepted() -> None:
    data = build_zip({"fatture/Società è già.pdf": PDF, "bolletta n°1.pdf": PDF})

    assert read_all(data) == [
        ArchiveEntry("fatture/Società è già.pdf", PDF),
        ArchiveEntry("bolletta n°1.pdf", PDF),
    ]


def test_unicode_case_duplicate_rejected() -> None:
    # "È" precomposed and "e" + combining grave, upper and lower case: the same name once normalized.
    data = build_zip({"\u00c8.pdf": PDF, "e\u0300.pdf": PDF})

    reason = rejection_reason(data)

    assert "names that differ at most in letter case" in reason


def test_case_only_duplicate_in_folders_rejected() -> None:
    data = build_zip({"Bills/A.PDF": PDF, "bills/a.pdf": PDF})

    reason = rejection_reason(data)

    assert "contains both 'Bills/A.PDF' and 'bills/a.pdf'" in reason


def test_entry_count_bomb_rejected_before_inflating() -> None:
    # Written field by field: zipfile.writestr takes about 20 s for this many entries.
    entries = ArchiveLimits().max_entries + 1
    names = [f"{index}.txt".encode() for index in range(entries)]
    local_headers = [local_header(name, 0, 0, 0) for name in names]
    offsets = [0]
    for header in local_headers[:-1]:
        offsets.append(offsets[-1] + len(header))
    body = b"".join(local_headers)
    directory = b"".join(central_header(name, 0, 0, 0, offset) for name, offset in zip(names, offsets, strict=True))
    data = body + directory + end_of_directory(entries % 65_536, len(directory), len(body))

    reason = rejection_reason(data)

    assert reason == (
        f"flow.zip has {entries} entries, more than the limit of {entries - 1}. Split the flow into several archives."
    )


def test_declared_size_lie_with_forged_crc_is_bounded() -> None:
    # The directory declares 100 bytes and the CRC of those 100 bytes, but the stream inflates to 10 MB.
    real = b"<" + b"a" * (10 * 1024 * 1024)
    declared = real[:100]
    stream = raw_deflate(real)
    name = b"bomb.xml"
    header = local_header(name, zlib.crc32(declared), len(stream), len(declared))
    directory = central_header(name, zlib.crc32(declared), len(stream), len(declared), 0)
    data = header + stream + directory + end_of_directory(1, len(directory), len(header) + len(stream))

    [entry] = read_all(data, ArchiveLimits(max_entry_bytes=1000, max_total_bytes=1000))

    assert isinstance(entry, ArchiveEntry)
    assert entry.content == declared


def test_declared_size_lie_with_wrong_crc_rejected() -> None:
    real = b"<" + b"a" * (10 * 1024 * 1024)
    stream = raw_deflate(real)
    name = b"bomb.xml"
    header = local_header(name, zlib.crc32(real), len(stream), 100)
    directory = central_header(name, zlib.crc32(real), len(stream), 100, 0)
    data = header + stream + directory + end_of_directory(1, len(directory), len(header) + len(stream))

    reason = rejection_reason(data, ArchiveLimits(max_entry_bytes=1000, max_total_bytes=1000))

    assert reason.startswith("flow.zip is corrupted or crafted: entry 'bomb.xml' cannot be read")


def test_quoted_overlap_bomb_rejected_by_overlap_check() -> None:
    data, declared = quoted_overlap_bomb(entries=20, kernel_bytes=5 * 1024 * 1024)
    assert len(data) < 20_000
    assert declared > 100 * 1024 * 1024

    reason = rejection_reason(data)

    assert reason.startswith("flow.zip was rejected as a possible zip bomb: entries '0000.xml' and '0001.xml' overlap.")


def test_quoted_overlap_bomb_stopped_by_counted_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without the overlap check, Python 3.11.7's zipfile inflates every entry in full; the ratio and
    # total caps on the bytes actually inflated must stop it.
    monkeypatch.setattr(archive_module, "_check_overlaps", lambda infos, filename: None)
    data, declared = quoted_overlap_bomb(entries=20, kernel_bytes=5 * 1024 * 1024)
    counted: list[int] = []
    original = archive_module._inflate_capped

    def counting(stream, info, limits, sink):  # type: ignore[no-untyped-def]
        result = original(stream, info, limits, sink)
        counted.append(result[0])
        return result

    monkeypatch.setattr(archive_module, "_inflate_capped", counting)

    items = read_all(data)

    assert len(items) == 20
    for item in items:
        assert isinstance(item, Rejection)
        assert "which is how ZIP bombs work" in render(item.reason, "en")
    assert sum(counted) < declared / 4


def test_quoted_overlap_bomb_declared_total_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each overlapping entry declares its true inflated size, so their sum passes the total cap.
    monkeypatch.setattr(archive_module, "_check_overlaps", lambda infos, filename: None)
    data, declared = quoted_overlap_bomb(entries=20, kernel_bytes=2 * 1024 * 1024)

    reason = rejection_reason(data, ArchiveLimits(max_total_bytes=declared // 2))

    assert reason.startswith(f"flow.zip declares {declared} uncompressed bytes, more than the limit")


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("invoice.pdf", b"<html><script>alert(1)</script>", "is named .pdf but does not start with %PDF"),
        ("invoice.pdf", b"MZ\x90\x00", "is named .pdf but does not start with %PDF"),
        ("IT01_1.xml", PDF, "is named .xml but does not start like an XML document"),
        ("IT01_1.XML", b"PK\x03\x04", "is named .xml but does not start like an XML document"),
        ("IT01_1.xml.p7m", b"%PDF-1.4 \x00\x01\x02", "is named .p7m but is neither DER nor base64 text"),
    ],
)
def test_magic_byte_mismatch_rejects_entry(name: str, content: bytes, expected: str) -> None:
    [item] = read_all(build_zip({name: content}))

    assert isinstance(item, Rejection)
    assert expected in render(item.reason, "en")


def test_nested_zip_entry_not_opened() -> None:
    inner = build_zip({"../evil.pdf": PDF})
    data = build_zip({"inner.zip": inner})

    assert read_all(data) == [ArchiveEntry("inner.zip", inner)]
