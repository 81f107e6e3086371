"""Decoding of FatturaPA ``Allegati`` into PDF attachments.

The content is sniffed, whatever ``FormatoAttachment`` declares: a PDF is kept, a ZIP is opened with the
archive caps and its PDFs are kept, anything else is skipped with a warning.
"""

from __future__ import annotations

import binascii
from pathlib import PurePosixPath

from lxml import etree

from bolletta.platform.i18n.message import T_, Text
from bolletta.platform.ingest.archive import ArchiveEntry, ArchiveLimits, iter_archive
from bolletta.platform.ingest.errors import ArchiveRejected
from bolletta.platform.ingest.records import Attachment
from bolletta.platform.ingest.safe_xml import find, text


def decode_attachment(
    allegati: etree._Element, position: int, max_bytes: int
) -> tuple[list[Attachment], list[Text]]:
    """Decode one ``Allegati`` block into PDF attachments, and return them with any warnings.

    ``max_bytes`` caps the decoded size; a larger attachment is skipped with a warning naming the
    limit, before any decoding.
    """
    name = _safe_name(text(allegati, "NomeAttachment") or f"attachment-{position}")
    element = find(allegati, "Attachment")
    encoded = "".join((element.text or "").split()) if element is not None else ""
    if not encoded:
        return [], [T_("Attachment {name} has no content and was skipped.", name=name)]

    decoded_size = len(encoded) * 3 // 4
    if decoded_size > max_bytes:
        return [], [
            T_(
                "Attachment {name} is too large: about {size} bytes decoded, more than the limit of "
                "{limit} bytes. It was skipped. Send the PDF as a separate file in the archive.",
                name=name,
                size=decoded_size,
                limit=max_bytes,
            )
        ]

    try:
        content = binascii.a2b_base64(encoded, strict_mode=True)
    except binascii.Error as exc:
        return [], [
            T_(
                "Attachment {name} is not valid base64 ({detail}) and was skipped. "
                "Send the PDF as a separate file in the archive.",
                name=name,
                detail=str(exc),
            )
        ]

    if content.startswith(b"%PDF"):
        return [Attachment(name=_with_pdf_suffix(name), content=content)], []
    if content.startswith(b"PK\x03\x04"):
        return _pdfs_in_zip(name, content, max_bytes)
    return [], [T_("Attachment {name} is neither a PDF nor a ZIP of PDFs and was skipped.", name=name)]


def _pdfs_in_zip(name: str, content: bytes, max_bytes: int) -> tuple[list[Attachment], list[Text]]:
    limits = ArchiveLimits(max_entries=100, max_entry_bytes=max_bytes, max_total_bytes=max_bytes)
    attachments: list[Attachment] = []
    warnings: list[Text] = []
    # A ".zip" name makes iter_archive open the content as a ZIP whatever the attachment is called.
    archive_name = name if name.lower().endswith(".zip") else f"{name}.zip"
    try:
        for item in iter_archive(content, archive_name, limits):
            if not isinstance(item, ArchiveEntry):
                warnings.append(T_("Attachment {name}: {reason}", name=name, reason=item.reason))
            elif item.content.startswith(b"%PDF"):
                attachments.append(Attachment(name=_safe_name(item.name), content=item.content))
    except ArchiveRejected as exc:
        return [], [T_("Attachment {name} was skipped: {reason}", name=name, reason=exc.text)]
    if not attachments:
        warnings.append(T_("Attachment {name} is a ZIP without PDFs and was skipped.", name=name))
    return attachments, warnings


def _safe_name(name: str) -> str:
    # Keep only the last path component: the name is shown to staff and used when storing the file.
    return PurePosixPath(name.replace("\\", "/")).name or "attachment"


def _with_pdf_suffix(name: str) -> str:
    return name if name.lower().endswith(".pdf") else f"{name}.pdf"
