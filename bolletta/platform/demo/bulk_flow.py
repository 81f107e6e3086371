"""Large billing flows for benchmarks and tests: copies of the demo flow's bills with new numbers."""

from __future__ import annotations

import io
import os
import re
import zipfile
from datetime import date
from pathlib import Path
from typing import IO

from bolletta.platform.demo.flow import CONTACTS_FILENAME, build_demo_flow

_NUMBER = re.compile(rb"<Numero>[^<]+</Numero>")
TEMPLATE_CUSTOMERS = 40
"""Customers of the demo flow whose files are copied; every copy keeps its customer and contacts."""


def bulk_document_number(index: int) -> str:
    """Return the document number of the ``index``-th bill (from 0) of a bulk flow."""
    return f"2026/B/{index:07d}"


def write_bulk_flow(
    target: Path | IO[bytes], bills: int, *, pdf_every: int = 0, pdf_bytes: int = 0,
    issue_date: date = date(2026, 11, 5),
) -> None:
    """Write a ZIP of ``bills`` single-bill FatturaPA files, a contacts CSV and optional PDFs.

    Every ``pdf_every``-th bill (0 for none) gets a PDF entry of ``pdf_bytes`` random bytes after a
    ``%PDF`` header, named after its document number. Random bytes do not deflate, like the
    compressed streams of a real PDF.
    """
    demo = build_demo_flow(customers=TEMPLATE_CUSTOMERS, issue_date=issue_date)
    with zipfile.ZipFile(io.BytesIO(demo.archive)) as source:
        contents = [source.read(info) for info in source.infolist() if info.filename.endswith(".xml")]
        contacts = source.read(CONTACTS_FILENAME)
    # Files with one body and no embedded PDF, so that each copy is exactly one bill.
    templates = [xml for xml in contents if xml.count(b"<Numero>") == 1 and b"<Allegati>" not in xml]

    pdf_body = os.urandom(pdf_bytes)
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr(zipfile.ZipInfo(CONTACTS_FILENAME), contacts, compress_type=zipfile.ZIP_DEFLATED)
        for index in range(bills):
            number = bulk_document_number(index)
            xml = _NUMBER.sub(f"<Numero>{number}</Numero>".encode(), templates[index % len(templates)], count=1)
            archive.writestr(f"fatture/IT07182930151_{index:07d}.xml", xml, compress_type=zipfile.ZIP_DEFLATED)
            if pdf_every and index % pdf_every == 0:
                pdf = b"%PDF-1.7\n" + index.to_bytes(4, "big") + pdf_body
                archive.writestr(f"pdf/{number.replace('/', '_')}.pdf", pdf, compress_type=zipfile.ZIP_STORED)
