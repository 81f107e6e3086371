"""Reading of a whole billing flow into one ``FlowReading``, for callers that want every bill at once.

The job parses with :func:`bolletta.platform.ingest.stream.iter_flow` instead, which yields the same
items one entry at a time.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

from bolletta.flows.base import FlowReader
from bolletta.platform.ingest.archive import ArchiveLimits
from bolletta.platform.ingest.fatturapa_lines import DEFAULT_SUPPLY_ADDRESS_TYPES
from bolletta.platform.ingest.flow_readers import BUILTIN_FLOW_IDS
from bolletta.platform.ingest.records import FlowReading, IgnoredEntry, ParsedBill, ParsedContact, Rejection
from bolletta.platform.ingest.stream import DEFAULT_CONTACTS_PATTERN, iter_flow, pdf_stem_for_number
from bolletta.platform.plugins import PluginSet

__all__ = ["DEFAULT_CONTACTS_PATTERN", "pdf_stem_for_number", "read_flow"]


def read_flow(
    source: bytes | Path,
    filename: str,
    limits: ArchiveLimits | None = None,
    *,
    series_pattern: str | re.Pattern[str] | None = None,
    customer_code_source: str = "fiscal_code",
    supply_address_types: Collection[str] = DEFAULT_SUPPLY_ADDRESS_TYPES,
    cost_rules: Iterable[Sequence[str]] = (),
    costs_layout: str | None = None,
    xsd_dir: str | Path | None = None,
    contacts_pattern: str = DEFAULT_CONTACTS_PATTERN,
    flow_formats: Collection[str] = BUILTIN_FLOW_IDS,
    plugins: PluginSet[FlowReader] | None = None,
) -> FlowReading:
    """Read every entry of an uploaded flow into bills, contacts, rejections and ignored entries.

    ``series_pattern``, ``customer_code_source``, ``supply_address_types``, ``cost_rules``,
    ``costs_layout`` and ``xsd_dir`` are passed to :func:`read_fatturapa` and to every other flow
    plugin. ``flow_formats`` and ``plugins`` choose the flow plugins (see :func:`iter_flow`). Signed
    ``.xml.p7m`` files are unwrapped first, and their bills get a "signature not verified" warning.
    Each JSON Lines record with the document number of a FatturaPA bill is merged into that bill
    (see :mod:`bolletta.platform.ingest.enrich`). Then PDFs are attached,
    first the archive entry that a record names in ``document.pdf``. A bill still without a PDF gets
    the one whose base name equals its document number (``/`` and spaces replaced by ``_``) or its
    XML file's base name.

    Raises:
        ArchiveRejected: the archive as a whole cannot be used (see :func:`iter_archive`).
        ValueError: a mapping setting is not valid (see :func:`read_fatturapa`), or ``costs_layout``
            is not ``summary_2016`` or ``receipt_2025``.
    """
    reading = FlowReading()
    positions: dict[int, int] = {}
    items = iter_flow(
        source, filename, limits, series_pattern=series_pattern, customer_code_source=customer_code_source,
        supply_address_types=supply_address_types, cost_rules=cost_rules, costs_layout=costs_layout,
        xsd_dir=xsd_dir, contacts_pattern=contacts_pattern, flow_formats=flow_formats, plugins=plugins,
        positions=positions,
    )
    for item in items:
        if isinstance(item, ParsedBill):
            reading.bills.append(item)
        elif isinstance(item, ParsedContact):
            reading.contacts.append(item)
        elif isinstance(item, Rejection):
            reading.rejected.append(item)
        elif isinstance(item, IgnoredEntry):
            reading.ignored.append(item)
    reading.bills.sort(key=lambda bill: positions[id(bill)])
    return reading
