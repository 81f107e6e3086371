"""Plain records the flow readers produce and the job stores: no database, no web.

Amounts are ``Decimal`` exactly as the flow sent them; a value the flow does not carry is ``None``
(never zero). Readers never raise for one bad bill: they return it in ``rejected`` with a reason.
Reasons and warnings are ``Text`` messages, translated when the job report is shown.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import msgspec

from bolletta.platform.i18n.message import Text


class Instalment(msgspec.Struct, kw_only=True):
    """One ``DettaglioPagamento``: an amount due by a date."""

    amount: Decimal
    due_date: date | None = None
    method: str | None = None
    """FatturaPA ``ModalitaPagamento`` code (``MP05``, ``MP23``...)."""
    iban: str | None = None
    notice_code: str | None = None
    """pagoPA notice code from ``CodicePagamento`` when the method is ``MP23``."""


class CostLine(msgspec.Struct, kw_only=True):
    """One cost item of the bill, classified into a regulated category."""

    category: str
    """A category of the bill's cost layout (``details["costs_layout"]``), listed in
    :mod:`bolletta.platform.ingest.cost_categories`. Under ``receipt_2025`` the part of a quota line
    is in ``details["receipt_costs"]``."""
    label: str
    amount: Decimal
    quantity: Decimal | None = None
    unit: str | None = None
    unit_price: Decimal | None = None


class Attachment(msgspec.Struct, kw_only=True):
    """A PDF the flow carries for the bill, already decoded and sniffed (starts with ``%PDF``)."""

    name: str
    content: bytes


class ParsedBill(msgspec.Struct, kw_only=True):
    """One bill read from a flow: one FatturaPA body or one JSON Lines record."""

    source_file: str
    """Archive entry the bill came from, for the job report."""
    body_index: int = 1
    """Position of the body in a FatturaPA batch file, starting at 1."""
    document_number: str
    document_type: str = "TD01"
    """FatturaPA ``TipoDocumento``; ``TD04`` is a credit note."""
    issue_date: date
    series: str = ""
    year: int
    currency: str = "EUR"
    total: Decimal | None = None
    """``ImportoTotaleDocumento`` when present."""
    amount_due: Decimal
    """Sum of the instalments, else the document total."""
    due_date: date | None = None
    """Due date of the first instalment; ``None`` when the flow has none (a warning for approval)."""
    instalments: list[Instalment] = []
    payment_method: str | None = None
    direct_debit: bool = False
    service: str = "electricity"
    """``electricity``, ``gas`` or ``water``, from the supply point or the units billed."""
    seller_name: str = ""
    seller_vat: str = ""
    customer_code: str
    customer_name: str
    fiscal_code: str | None = None
    vat_number: str | None = None
    customer_address: str | None = None
    pod: str | None = None
    pdr: str | None = None
    supply_address: str | None = None
    period_from: date | None = None
    period_to: date | None = None
    consumption: Decimal | None = None
    consumption_unit: str | None = None
    costs: list[CostLine] = []
    attachments: list[Attachment] = []
    warnings: list[Text] = []
    details: dict[str, Any] = {}
    """Smart-bill sections beyond the core fields (readings, consumption history and bands, offer,
    previous payments, annual cost, supply details, customer services, ``extra``), as plain JSON
    values; the JSON Lines flow fills them, FatturaPA carries none of them."""

    @property
    def is_credit_note(self) -> bool:
        """True for ``TD04`` documents, which are never payable online."""
        return self.document_type == "TD04"


class ParsedContact(msgspec.Struct, kw_only=True):
    """One usable contact from a contacts CSV row (several per row when a cell lists several) or from
    the ``customer`` of a JSON Lines record."""

    customer_code: str
    channel: str
    """``sms``, ``whatsapp`` or ``email``."""
    address: str
    """E.164 phone number (``+393331234567``) or normalised e-mail address."""
    language: str | None = None
    row: int = 0
    """Row of the contacts CSV, or line of the JSON Lines file, the contact was read from."""
    source: str = "job_csv"
    """``job_csv`` for a contacts CSV in the archive, ``flow`` for a contact inside a bill record."""


class Rejection(msgspec.Struct, kw_only=True):
    """A record or file that could not be used, with where and why, for the job report."""

    file: str
    reason: Text
    """What is wrong, on which value, and what to do, in plain words, safe to show to staff."""
    record: str | None = None
    """Body index, line or row number inside the file."""
    field: str | None = None
    """Element path or column name."""


class IgnoredEntry(msgspec.Struct, kw_only=True):
    """An archive entry that is neither a bill, a contacts file nor a PDF."""

    file: str
    reason: Text


class FlowReading(msgspec.Struct, kw_only=True):
    """Everything one archive yielded: bills and contacts to store, and what was left out."""

    bills: list[ParsedBill] = []
    contacts: list[ParsedContact] = []
    rejected: list[Rejection] = []
    ignored: list[IgnoredEntry] = []
    warnings: list[Text] = []
