"""Contract between the platform and flow plugins (entry point group ``bolletta.flows``).

A flow plugin reads one billing flow format, such as a utility's agreed legacy layout, into the
plain records the platform stores. To write one, subclass :class:`FlowReader`, fill in its class
attributes, implement :meth:`FlowReader.read`, and declare the class under the entry point group
``bolletta.flows``. The entry point name is the plugin's id and must equal :attr:`FlowReader.id`.

A plugin imports only this module and the standard library or its own dependencies, never other
platform modules: the records and the message helper it needs are re-exported here.
"""

from __future__ import annotations

import fnmatch
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from bolletta.platform.i18n.message import T_, Text
from bolletta.platform.ingest.records import (
    Attachment,
    CostLine,
    Instalment,
    ParsedBill,
    ParsedContact,
    Rejection,
)

__all__ = [
    "CONTRACT_VERSION",
    "T_",
    "Attachment",
    "CostLine",
    "FileReading",
    "FlowOptions",
    "FlowReader",
    "Instalment",
    "ParsedBill",
    "ParsedContact",
    "Rejection",
    "Text",
]

CONTRACT_VERSION = 1
"""Major version of this contract. The loader rejects a plugin that declares another major version."""


@dataclass(frozen=True, kw_only=True)
class FlowOptions:
    """The tenant's mapping settings, passed to every :meth:`FlowReader.read` call.

    The FatturaPA settings mean nothing to most other layouts; a plugin reads the ones that apply.
    """

    series_pattern: re.Pattern[str] | None = None
    """Regular expression with optional ``series`` and ``year`` groups, matched against the whole
    document number; ``None`` means no series and the issue date's year."""

    customer_code_source: str = "fiscal_code"
    """Source of the customer code of FatturaPA bills: ``fiscal_code``, ``altri_dati:<TipoDato>``
    or ``id_documento_contratto``."""

    supply_address_types: Sequence[str] = ("Ind.POD", "Ind.PDR")
    """FatturaPA ``AltriDatiGestionali/TipoDato`` values whose text is the supply address."""

    cost_rules: Sequence[tuple[str, str]] = ()
    """Ordered ``(keyword, category)`` pairs that classify cost lines by their description; empty
    means the default table of the cost layout."""

    costs_layout: str = "summary_2016"
    """Cost categories the tenant's bills use: ``summary_2016`` or ``receipt_2025``."""

    attachment_max_bytes: int = 20 * 1024 * 1024
    """Largest embedded PDF, in bytes, that a reader decodes."""

    xsd_dir: Path | None = None
    """Folder with the official FatturaPA schemas, or ``None`` to skip schema validation."""


@dataclass(kw_only=True)
class FileReading:
    """Bills, contacts and rejections that one :meth:`FlowReader.read` call found in one file."""

    bills: list[ParsedBill] = field(default_factory=list)
    """Bills in file order. ``source_file`` is the name given to ``read``, and ``body_index`` the
    bill's position in the file (a line or record number), from 1."""

    contacts: list[ParsedContact] = field(default_factory=list)
    """Customer contacts the file carries, if the layout has any."""

    rejected: list[Rejection] = field(default_factory=list)
    """One rejection per bad bill or record, or one for the whole file when it cannot be read.
    Give ``file`` and, where known, ``record`` and ``field``, and a ``reason`` built with ``T_``."""


class FlowReader(ABC):
    """Base class of every flow plugin.

    The platform creates one instance per flow upload and calls :meth:`read` once for each archive
    entry whose base name matches one of :attr:`patterns`, one entry at a time.
    """

    id: ClassVar[str]
    """Plugin id: must equal the entry point name. Tenants list it in their accepted flow formats."""

    name: ClassVar[str]
    """Display name shown in the admin catalogue."""

    version: ClassVar[str]
    """Version of the plugin itself, shown in the admin catalogue."""

    patterns: ClassVar[tuple[str, ...]]
    """Shell-style patterns (``*.txt``, ``ACME_*.csv``) of the entry base names this reader reads,
    matched case-insensitively. When several readers match, the built-in readers come first and
    the others follow in discovery order. An entry that matches the tenant's contacts file pattern
    is read as contacts before any third-party reader sees it."""

    contract_version: ClassVar[int] = CONTRACT_VERSION
    """Major contract version the plugin was written for. Set it explicitly in your plugin so that a
    future contract change makes the loader reject the plugin instead of calling it wrongly."""

    @abstractmethod
    def read(self, data: bytes, source_file: str, options: FlowOptions) -> FileReading:
        """Read one file of the flow into bills, contacts and rejections.

        ``data`` is the whole entry, already inflated within the archive limits. ``source_file`` is
        its path inside the archive, to put in every record and message. A bad record goes into
        ``rejected`` and the others go on.

        Raises:
            Exception: any exception is caught by the platform and turned into one rejection of
                the file that names the plugin, so raise only for a bug, not for bad input.
        """

    @classmethod
    def claims(cls, base_name: str) -> bool:
        """Return whether ``base_name`` (an entry name without folders) matches one of :attr:`patterns`."""
        lower = base_name.casefold()
        return any(fnmatch.fnmatchcase(lower, pattern.casefold()) for pattern in cls.patterns)
