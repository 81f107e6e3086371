"""Safe reading of an uploaded flow: a ZIP archive or one bare flow file.

The archive is treated as hostile. Entry names that try to leave the job folder (absolute paths,
``..`` segments, backslashes, drive letters), symlink entries and duplicate names reject the whole
archive, because they only occur in crafted archives. Sizes are counted on the bytes actually
inflated, in chunks, because the sizes an archive declares can lie. Nothing is written to disk. A JSON
Lines file is inflated twice, once to check it against the caps and once line by line, so it never
sits in memory whole.
"""

from __future__ import annotations

import io
import itertools
import re
import stat
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING

import msgspec

from bolletta.platform.i18n.message import T_, Text
from bolletta.platform.ingest.errors import ArchiveRejected
from bolletta.platform.ingest.records import Rejection

if TYPE_CHECKING:
    from bolletta.platform.settings import Settings

MIB = 1024 * 1024
CHUNK_BYTES = 64 * 1024

BARE_FILE_SUFFIXES = (".xml", ".xml.p7m", ".jsonl", ".csv")
"""Names read as one flow file instead of a ZIP archive."""

_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")
_SLASH_LOOKALIKES = frozenset("\u2044\u2215\u29f8\u29f9")
"""Fraction slash, division slash and the big solidi, which NFKC leaves as they are."""

LOCAL_HEADER_BYTES = 30
"""Fixed part of a ZIP local file header, before the name and the extra field."""
_BASE64_TEXT = re.compile(rb"^[A-Za-z0-9+/=\r\n\t -]+$")


class ArchiveLimits(msgspec.Struct, kw_only=True, frozen=True):
    """Caps applied while reading an archive; defaults equal the ``Settings`` defaults."""

    max_entries: int = 300_000
    """Entries of one archive: room for 100,000 bills with a PDF each, plus contacts and records."""
    max_entry_bytes: int = 200 * MIB
    """Uncompressed bytes of one entry."""
    max_total_bytes: int = 20 * 1024 * MIB
    """Uncompressed bytes of all entries together."""
    max_ratio: int = 200
    """Uncompressed / compressed size of one entry, checked once the entry passes ``ratio_min_bytes``."""
    ratio_min_bytes: int = MIB
    attachment_max_bytes: int = 20 * MIB
    """Decoded bytes of one FatturaPA attachment."""

    @classmethod
    def from_settings(cls, settings: Settings) -> ArchiveLimits:
        """Build the limits from the process settings."""
        return cls(
            max_entries=settings.archive_max_entries,
            max_entry_bytes=settings.archive_max_entry_bytes,
            max_total_bytes=settings.archive_max_total_bytes,
            max_ratio=settings.archive_max_ratio,
            attachment_max_bytes=settings.attachment_max_bytes,
        )


class ArchiveEntry(msgspec.Struct, frozen=True):
    """One file of the flow: its name inside the archive (``/`` separated) and its bytes."""

    name: str
    content: bytes


def iter_archive(
    source: bytes | Path, filename: str, limits: ArchiveLimits | None = None
) -> Iterator[ArchiveEntry | Rejection]:
    """Yield every file of the flow, or a ``Rejection`` for an entry that cannot be used.

    ``source`` is the uploaded bytes or a path to them; ``filename`` is the uploaded name. A name
    ending in one of ``BARE_FILE_SUFFIXES`` is one flow file, anything else must be a ZIP archive.
    Directory entries are skipped.

    Raises:
        ArchiveRejected: the archive is not a ZIP, is corrupted, has too many entries, has an
            unsafe or duplicate entry name or a symlink, or inflates past ``max_total_bytes``.
            It can be raised after some entries were yielded; the caller must then drop them.
    """
    limits = limits or ArchiveLimits()
    if filename.lower().endswith(BARE_FILE_SUFFIXES):
        yield _read_bare_file(source, filename, limits)
        return

    with open_archive(source, filename, limits) as opened:
        for info in opened.members:
            yield opened.read(info)


def open_archive(source: bytes | Path, filename: str, limits: ArchiveLimits | None = None) -> OpenArchive:
    """Open a ZIP flow and check its central directory, for reading entries in any order.

    Raises:
        ArchiveRejected: as :func:`iter_archive`, for the archive or its directory.
    """
    try:
        # BytesIO shares an immutable bytes object until written to, so the upload is not copied.
        archive = zipfile.ZipFile(source if isinstance(source, Path) else io.BytesIO(source))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ArchiveRejected(
            T_(
                "{file} is not a readable ZIP archive ({detail}). Send a ZIP file, or one .xml, "
                ".xml.p7m, .jsonl or .csv file.",
                file=filename,
                detail=str(exc),
            )
        ) from exc
    return OpenArchive(archive, filename, limits or ArchiveLimits())


def _read_bare_file(source: bytes | Path, filename: str, limits: ArchiveLimits) -> ArchiveEntry | Rejection:
    if isinstance(source, Path):
        with source.open("rb") as handle:
            content = handle.read(limits.max_entry_bytes + 1)
    else:
        content = source
    if len(content) > limits.max_entry_bytes:
        raise ArchiveRejected(_too_large_text(filename, limits))
    name = PurePosixPath(filename.replace("\\", "/")).name
    return _sniff(ArchiveEntry(name=name, content=content))


def _check_directory(archive: zipfile.ZipFile, filename: str, limits: ArchiveLimits) -> list[zipfile.ZipInfo]:
    """Check the central directory before inflating anything, and return the file entries."""
    infos = archive.infolist()
    if len(infos) > limits.max_entries:
        raise ArchiveRejected(
            T_(
                "{file} has {count} entries, more than the limit of {limit}. "
                "Split the flow into several archives.",
                file=filename,
                count=len(infos),
                limit=limits.max_entries,
            )
        )

    declared_total = sum(info.file_size for info in infos)
    if declared_total > limits.max_total_bytes:
        raise ArchiveRejected(
            T_(
                "{file} declares {size} uncompressed bytes, more than the limit of {limit} bytes. "
                "Split the flow into several archives.",
                file=filename,
                size=declared_total,
                limit=limits.max_total_bytes,
            )
        )

    _check_overlaps(infos, filename)
    seen: dict[str, str] = {}
    members: list[zipfile.ZipInfo] = []
    for info in infos:
        _check_name(info, filename)
        key = unicodedata.normalize("NFC", info.filename.rstrip("/")).casefold()
        if key in seen:
            raise ArchiveRejected(
                T_(
                    "{file} contains both {first} and {second}, names that differ at most in letter "
                    "case, so it is not clear which file to use. Remove one and upload again.",
                    file=filename,
                    first=repr(seen[key]),
                    second=repr(info.filename),
                )
            )
        seen[key] = info.filename
        if not info.is_dir():
            members.append(info)
    return members


def _check_overlaps(infos: list[zipfile.ZipInfo], filename: str) -> None:
    """Reject entries whose compressed data runs into the next entry's local header.

    Overlapping entries are how the quoted-overlap zip bomb reuses one compressed kernel for every
    entry. Python 3.11.8 and 3.12.2 added this check to ``zipfile``, and older versions lack it.
    Entries that do not overlap always pass, because each one takes at least its 30-byte local header
    plus its compressed size before the next one starts.
    """
    ordered = sorted(infos, key=lambda info: info.header_offset)
    for current, following in itertools.pairwise(ordered):
        if current.header_offset + LOCAL_HEADER_BYTES + current.compress_size > following.header_offset:
            raise ArchiveRejected(
                T_(
                    "{file} was rejected as a possible zip bomb: entries {first} and {second} overlap. "
                    "Build the archive again with an ordinary ZIP tool.",
                    file=filename,
                    first=repr(current.filename),
                    second=repr(following.filename),
                )
            )


def _has_hidden_or_slash_like_character(name: str) -> bool:
    """Tell whether ``name`` has a control (Cc) or format (Cf) character, or a slash lookalike."""
    # Printable ASCII has none of them, so the usual name skips the walk over its characters.
    if name.isascii() and name.isprintable():
        return False
    return any(unicodedata.category(char) in ("Cc", "Cf") or char in _SLASH_LOOKALIKES for char in name)


def _check_name(info: zipfile.ZipInfo, filename: str) -> None:
    # One whole sentence per problem, so that each translates on its own. Names are also checked in
    # NFKC form, where fullwidth dots and slashes become "." and "/".
    name = info.filename
    folded = unicodedata.normalize("NFKC", name)
    problem = None
    if _has_hidden_or_slash_like_character(name):
        problem = T_(
            "{file} was rejected as unsafe: entry {entry} has a control, invisible or slash-like "
            "character. Build the archive from plain files with relative paths and upload it again."
        )
    elif name != folded and _is_unsafe_path(folded):
        problem = T_(
            "{file} was rejected as unsafe: entry {entry} becomes a path outside the archive once its "
            "Unicode characters are normalized. Build the archive from plain files with relative paths "
            "and upload it again."
        )
    elif not name or "\x00" in name:
        problem = T_(
            "{file} was rejected as unsafe: entry {entry} has an empty name or a NUL character. "
            "Build the archive from plain files with relative paths and upload it again."
        )
    elif "\\" in name:
        problem = T_(
            "{file} was rejected as unsafe: entry {entry} has a backslash. "
            "Build the archive from plain files with relative paths and upload it again."
        )
    elif name.startswith("/") or _DRIVE_LETTER.match(name):
        problem = T_(
            "{file} was rejected as unsafe: entry {entry} has an absolute path. "
            "Build the archive from plain files with relative paths and upload it again."
        )
    elif ".." in name.split("/"):
        problem = T_(
            "{file} was rejected as unsafe: entry {entry} has a '..' segment. "
            "Build the archive from plain files with relative paths and upload it again."
        )
    elif stat.S_ISLNK(info.external_attr >> 16):
        problem = T_(
            "{file} was rejected as unsafe: entry {entry} has a symbolic link type. "
            "Build the archive from plain files with relative paths and upload it again."
        )
    if problem is not None:
        raise ArchiveRejected(problem.with_params(file=filename, entry=repr(name)))


def _is_unsafe_path(name: str) -> bool:
    return "\\" in name or name.startswith("/") or bool(_DRIVE_LETTER.match(name)) or ".." in name.split("/")


class OpenArchive:
    """A ZIP flow whose directory passed the checks; entries are inflated one at a time, on request.

    ``members`` lists the file entries in archive order. The total of inflated bytes is counted
    across every :meth:`read`, so reading an entry twice counts it twice.
    """

    def __init__(self, archive: zipfile.ZipFile, filename: str, limits: ArchiveLimits) -> None:
        self.filename = filename
        self.limits = limits
        self._archive = archive
        self._total = 0
        try:
            self.members: list[zipfile.ZipInfo] = _check_directory(archive, filename, limits)
        except ArchiveRejected:
            archive.close()
            raise

    def __enter__(self) -> OpenArchive:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the ZIP file."""
        self._archive.close()

    def read(self, info: zipfile.ZipInfo) -> ArchiveEntry | Rejection:
        """Inflate one member within the caps and sniff it.

        Raises:
            ArchiveRejected: the entry is corrupted, or the archive inflates past ``max_total_bytes``.
        """
        chunks: list[bytes] = []
        rejection = self._inflate(info, chunks.append)
        if rejection is not None:
            return rejection
        return _sniff(ArchiveEntry(info.filename, b"".join(chunks)))

    def check(self, info: zipfile.ZipInfo) -> Rejection | None:
        """Inflate one member within the caps without keeping it, and return why it cannot be used.

        This is the first pass over a member read line by line with :meth:`lines`: a member that a cap
        stops is rejected whole, before any of its lines is read. The bytes are not counted toward
        ``max_total_bytes`` here, but by each call of :meth:`lines`.

        Raises:
            ArchiveRejected: the entry is corrupted.
        """
        return self._inflate(info, lambda chunk: None, counted=False)

    def lines(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        """Yield the lines of a member that :meth:`check` accepted, inflating it again.

        Memory contains one line at a time. Each line keeps its ``\\n``, and a line is never longer than
        the member, which :meth:`check` capped.

        Raises:
            ArchiveRejected: the entry is corrupted, or the archive inflates past ``max_total_bytes``.
        """
        try:
            with self._archive.open(info) as stream:
                for line in stream:
                    self._count(len(line))
                    yield line
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise self._corrupted(info, exc) from exc

    def _inflate(
        self, info: zipfile.ZipInfo, sink: Callable[[bytes], object], *, counted: bool = True
    ) -> Rejection | None:
        """Inflate one member in chunks into ``sink``, stopping at the entry cap or the ratio cap."""
        limits = self.limits
        if info.flag_bits & 0x1:
            return Rejection(
                file=info.filename,
                reason=T_(
                    "{file} is encrypted and cannot be read. Add it without a password.", file=info.filename
                ),
            )
        if info.file_size > limits.max_entry_bytes:
            return _too_large(info.filename, limits)
        try:
            with self._archive.open(info) as stream:
                size, rejection = _inflate_capped(stream, info, limits, sink)
        except NotImplementedError as exc:
            return Rejection(
                file=info.filename,
                reason=T_(
                    "{file} uses a compression method that is not supported ({detail}). "
                    "Use Deflate or no compression.",
                    file=info.filename,
                    detail=str(exc),
                ),
            )
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise self._corrupted(info, exc) from exc
        if counted:
            self._count(size)
        return rejection

    def _count(self, size: int) -> None:
        self._total += size
        if self._total > self.limits.max_total_bytes:
            raise ArchiveRejected(
                T_(
                    "{file} inflates to more than the limit of {limit} bytes. "
                    "Split the flow into several archives.",
                    file=self.filename,
                    limit=self.limits.max_total_bytes,
                )
            )

    def _corrupted(self, info: zipfile.ZipInfo, exc: Exception) -> ArchiveRejected:
        return ArchiveRejected(
            T_(
                "{file} is corrupted or crafted: entry {entry} cannot be read ({detail}). "
                "Build the archive again and upload it.",
                file=self.filename,
                entry=repr(info.filename),
                detail=str(exc),
            )
        )


def _inflate_capped(
    stream: IO[bytes], info: zipfile.ZipInfo, limits: ArchiveLimits, sink: Callable[[bytes], object]
) -> tuple[int, Rejection | None]:
    """Inflate one entry in chunks into ``sink``, stopping at the entry cap or the ratio cap.

    Returns the number of bytes inflated and a rejection when a cap stopped it; ``sink`` has then
    received only part of the entry.
    """
    counted = 0
    compressed = max(info.compress_size, 1)
    while chunk := stream.read(CHUNK_BYTES):
        counted += len(chunk)
        if counted > limits.max_entry_bytes:
            return counted, _too_large(info.filename, limits)
        if counted > limits.ratio_min_bytes and counted > limits.max_ratio * compressed:
            reason = T_(
                "{file} inflates more than {ratio} times its compressed size ({size} bytes), which is "
                "how ZIP bombs work. Compress it normally and upload again.",
                file=info.filename,
                ratio=limits.max_ratio,
                size=compressed,
            )
            return counted, Rejection(file=info.filename, reason=reason)
        sink(chunk)
    return counted, None


def _too_large(name: str, limits: ArchiveLimits) -> Rejection:
    return Rejection(file=name, reason=_too_large_text(name, limits))


def _too_large_text(name: str, limits: ArchiveLimits) -> Text:
    return T_(
        "{file} is larger than the limit of {limit} bytes for one file. "
        "Split it or ask the platform operator to raise the limit.",
        file=name,
        limit=limits.max_entry_bytes,
    )


def _sniff(entry: ArchiveEntry) -> ArchiveEntry | Rejection:
    """Check that the content matches the extension, for the types the reader opens."""
    name = entry.name.lower()
    head = entry.content[:1024]
    problem = None
    if name.endswith(".pdf") and not head.startswith(b"%PDF"):
        problem = T_(
            "{file} is named .pdf but does not start with %PDF. "
            "Check that the file was exported with the right type."
        )
    elif name.endswith(".xml") and not looks_like_xml(head):
        problem = T_(
            "{file} is named .xml but does not start like an XML document. "
            "Check that the file was exported with the right type."
        )
    elif name.endswith(".p7m") and not _looks_like_p7m(head):
        problem = T_(
            "{file} is named .p7m but is neither DER nor base64 text. "
            "Check that the file was exported with the right type."
        )
    if problem is None:
        return entry
    return Rejection(file=entry.name, reason=problem.with_params(file=entry.name))


def looks_like_xml(head: bytes) -> bool:
    """True when ``head`` starts with ``<`` after an optional UTF-8 BOM and whitespace."""
    return head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n").startswith(b"<")


def _looks_like_p7m(head: bytes) -> bool:
    # DER starts with a SEQUENCE tag; base64 and PEM text use only the base64 alphabet and dashes.
    return head.startswith(b"\x30") or bool(_BASE64_TEXT.match(head))
