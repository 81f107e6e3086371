"""Reading of the Bolletta Smart JSON Lines flow (``bolletta-smart/1``) into bills and contacts.

Each line is decoded on its own against :class:`~bolletta.platform.ingest.flow_schema.FlowRecord`:
a bad line is rejected with its line number, the path of the field at fault and the reason, and the
other lines go on. Blank lines are skipped. The core fields become a ``ParsedBill``. Everything else
the smart bill shows goes to ``ParsedBill.details`` as plain JSON values, laid out as
``docs/flow-format.md`` documents.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import msgspec
from email_validator import EmailNotValidError, validate_email

from bolletta.platform.contacts.phones import PhoneProblem, read_mobile
from bolletta.platform.i18n.message import T_, Text
from bolletta.platform.ingest.flow_schema import (
    DECIMAL_PATTERN,
    FORMAT,
    RECEIPT_2025_CATEGORIES,
    RECEIPT_2025_QUOTAS,
    SUMMARY_2016_CATEGORIES,
    FlowRecord,
)
from bolletta.platform.ingest.records import CostLine, Instalment, ParsedBill, ParsedContact, Rejection

PAYMENT_METHOD_CODES = {
    "direct_debit": "MP19",
    "bank_transfer": "MP05",
    "postal_slip": "MP18",
    "pagopa": "MP23",
    "card": "MP08",
}
"""FatturaPA ``ModalitaPagamento`` code stored for each flow payment method; ``other`` has none."""

RECEIPT_LAYOUT_START = date(2025, 7, 1)
"""Issue date from which electricity and gas bills default to the ``receipt_2025`` cost layout."""

FLOW_CONTACT_SOURCE = "flow"

_ERROR_PATH = re.compile(r"^(?P<reason>.*) - at `\$(?P<path>[^`]*)`$", re.DOTALL)
_UTF8_BOM = b"\xef\xbb\xbf"


class PdfReference(msgspec.Struct, kw_only=True):
    """A bill whose record names its PDF by a path inside the archive (``document.pdf``)."""

    bill: ParsedBill
    path: str
    line: int


class JsonlReading(msgspec.Struct, kw_only=True):
    """Bills, contacts, rejections and PDF references read from one ``.jsonl`` file."""

    bills: list[ParsedBill] = []
    contacts: list[ParsedContact] = []
    rejected: list[Rejection] = []
    pdf_references: list[PdfReference] = []


class _RecordError(Exception):
    """A check after decoding failed: ``field`` is the path in the record, ``text`` the reason."""

    def __init__(self, field: str, text: Text) -> None:
        super().__init__(field)
        self.field = field
        self.text = text


class _FormatOnly(msgspec.Struct):
    format: Any = None


class _PdfOfDocument(msgspec.Struct):
    pdf: Any = None


class _PdfOnly(msgspec.Struct):
    document: _PdfOfDocument | None = None


_record_decoder = msgspec.json.Decoder(FlowRecord)
_pdf_decoder = msgspec.json.Decoder(_PdfOnly)
_format_decoder = msgspec.json.Decoder(_FormatOnly)


def read_jsonl(data: bytes, source_file: str) -> JsonlReading:
    """Read every line of a JSON Lines flow file; a bad line is rejected and the others go on."""
    reading = JsonlReading()
    for line_reading in iter_jsonl(io.BytesIO(data), source_file):
        reading.bills.extend(line_reading.bills)
        reading.contacts.extend(line_reading.contacts)
        reading.rejected.extend(line_reading.rejected)
        reading.pdf_references.extend(line_reading.pdf_references)
    return reading


def iter_jsonl(lines: Iterable[bytes], source_file: str) -> Iterator[JsonlReading]:
    """Yield what each line of a JSON Lines flow file gives, one reading per line that is not blank.

    ``lines`` are the file's lines split at ``\\n``, with or without it. Only the key of each bill
    (number, series, year) is kept from one line to the next, to reject a repeated record.
    """
    seen: dict[tuple[str, str, int], int] = {}
    for number, raw in enumerate(lines, start=1):
        line = raw.removeprefix(_UTF8_BOM) if number == 1 else raw
        line = line.rstrip(b"\n").rstrip(b"\r")
        if not line.strip():
            continue
        reading = JsonlReading()
        rejection = _read_line(line, number, source_file, reading, seen)
        if rejection is not None:
            reading.rejected.append(rejection)
        yield reading


def pdf_paths(lines: Iterable[bytes]) -> Iterator[str]:
    """Yield the ``document.pdf`` paths the records name, skipping lines that do not decode.

    This is a cheap first pass: it decodes nothing else, and the full reading rejects the bad lines.
    """
    for raw in lines:
        try:
            document = _pdf_decoder.decode(raw.removeprefix(_UTF8_BOM)).document
        except (msgspec.DecodeError, msgspec.ValidationError):
            continue
        if document is not None and isinstance(document.pdf, str):
            yield document.pdf


def _read_line(
    line: bytes, number: int, source_file: str, reading: JsonlReading, seen: dict[tuple[str, str, int], int]
) -> Rejection | None:
    def reject(reason: Text, field: str | None = None) -> Rejection:
        return Rejection(file=source_file, record=f"line {number}", field=field, reason=reason)

    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return reject(
            T_("{file}, line {line}: the line is not UTF-8 text (byte {position}). Export the flow as UTF-8.",
               file=source_file, line=number, position=exc.start + 1)
        )
    try:
        record = _decode(text)
    except _RecordError as exc:
        return reject(exc.text.with_params(file=source_file, line=number), exc.field or None)

    try:
        _check_record(record)
    except _RecordError as exc:
        return reject(exc.text.with_params(file=source_file, line=number), exc.field)

    bill = _bill_from(record, source_file, number)
    key = (bill.document_number, bill.series, bill.year)
    if key in seen:
        return reject(
            T_("{file}, line {line}: document {number} is already on line {first} of this file. "
               "Remove the repeated record.",
               file=source_file, line=number, number=bill.document_number, first=seen[key]),
            "document.number",
        )
    seen[key] = number

    contacts, contact_rejections = _contacts_from(record, source_file, number)
    reading.bills.append(bill)
    reading.contacts.extend(contacts)
    reading.rejected.extend(contact_rejections)
    if record.document.pdf is not None:
        reading.pdf_references.append(PdfReference(bill=bill, path=record.document.pdf, line=number))
    return None


def _decode(text: str) -> FlowRecord:
    """Decode one line, turning msgspec's errors into a reason and a field path."""
    try:
        declared = _format_decoder.decode(text).format
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise _RecordError(
            "", T_("{file}, line {line}: the line is not a JSON object ({detail}). Write one JSON object per line.",
                   detail=str(exc))
        ) from exc
    if declared is None:
        raise _RecordError(
            "format",
            T_("{file}, line {line}: the format field is missing. Add \"format\": \"{expected}\" to every record.",
               expected=FORMAT),
        )
    if declared != FORMAT:
        raise _RecordError(
            "format",
            T_("{file}, line {line}: the format field is {value}, but this platform reads {expected}. "
               "Set \"format\": \"{expected}\" and follow that version of the flow.",
               value=msgspec.json.encode(declared).decode(), expected=FORMAT),
        )
    try:
        return _record_decoder.decode(text)
    except msgspec.ValidationError as exc:
        reason, path = _split_error(str(exc))
        if not path:
            raise _RecordError(
                "", T_("{file}, line {line}: the record is not valid: {detail}. Correct the record and send it again.",
                       detail=reason)
            ) from exc
        raise _RecordError(
            path,
            T_("{file}, line {line}: field {field} is not valid: {detail}. Correct the record and send it again.",
               field=path, detail=reason),
        ) from exc


def _split_error(message: str) -> tuple[str, str]:
    """Split msgspec's ``"<reason> - at `$.a.b[0]`"`` into the reason and ``a.b[0]``."""
    match = _ERROR_PATH.match(message)
    if match is None:
        return message, ""
    reason = match["reason"].replace(
        f"Expected `str` matching regex {DECIMAL_PATTERN!r}",
        'Expected a decimal string with a dot, such as "4082.00"',
    )
    return reason, match["path"].removeprefix(".")


def costs_layout(record: FlowRecord) -> str:
    """Return the record's cost layout: the declared one, else the default for its service and date."""
    if record.costs_layout is not None:
        return record.costs_layout
    if record.supply.service in ("electricity", "gas") and record.document.issue_date >= RECEIPT_LAYOUT_START:
        return "receipt_2025"
    return "summary_2016"


def _check_record(record: FlowRecord) -> None:
    """Make the checks that span several fields, which the schema cannot express."""
    for name, period in (("document.period", record.document.period),
                         ("consumption.annual_period", record.consumption and record.consumption.annual_period)):
        if period and period.from_ and period.to and period.from_ > period.to:
            raise _RecordError(
                name,
                T_("{file}, line {line}: in {field} the start {start} is after the end {end}. Swap or correct them.",
                   field=name, start=period.from_.isoformat(), end=period.to.isoformat()),
            )

    layout = costs_layout(record)
    allowed = RECEIPT_2025_CATEGORIES if layout == "receipt_2025" else SUMMARY_2016_CATEGORIES
    for index, cost in enumerate(record.costs):
        field = f"costs[{index}]"
        if cost.category not in allowed:
            raise _RecordError(
                f"{field}.category",
                T_("{file}, line {line}: cost category {category} does not belong to the {layout} layout. "
                   "Use one of: {allowed}.",
                   category=cost.category, layout=layout, allowed=", ".join(allowed)),
            )
        needs_part = layout == "receipt_2025" and cost.category in RECEIPT_2025_QUOTAS
        if needs_part and cost.part is None:
            raise _RecordError(
                f"{field}.part",
                T_("{file}, line {line}: cost category {category} needs a part, sale or network_system. Add it.",
                   category=cost.category),
            )
        if not needs_part and cost.part is not None:
            raise _RecordError(
                f"{field}.part",
                T_("{file}, line {line}: cost category {category} is not split into parts. Remove its part field.",
                   category=cost.category),
            )


def _bill_from(record: FlowRecord, source_file: str, line: int) -> ParsedBill:
    document, customer, supply = record.document, record.customer, record.supply
    method_code = PAYMENT_METHOD_CODES.get(document.payment_method or "")
    notice_code = document.pagopa.notice_code if document.pagopa else None
    consumption = record.consumption
    return ParsedBill(
        source_file=source_file,
        body_index=line,
        document_number=document.number,
        document_type="TD04" if document.type == "credit_note" else "TD01",
        issue_date=document.issue_date,
        series=document.series or "",
        year=document.year or document.issue_date.year,
        currency=document.currency,
        total=_decimal(document.total),
        amount_due=Decimal(document.amount_due),
        due_date=document.due_date,
        instalments=[
            Instalment(amount=Decimal(document.amount_due), due_date=document.due_date, method=method_code,
                       notice_code=notice_code)
        ],
        payment_method=method_code,
        direct_debit=document.payment_method == "direct_debit",
        service=supply.service,
        customer_code=customer.code,
        customer_name=customer.name,
        fiscal_code=customer.fiscal_code,
        vat_number=customer.vat_number,
        customer_address=customer.address,
        pod=supply.pod,
        pdr=supply.pdr,
        supply_address=supply.address,
        period_from=document.period.from_ if document.period else None,
        period_to=document.period.to if document.period else None,
        consumption=_decimal(consumption.billed) if consumption else None,
        consumption_unit=consumption.unit if consumption else None,
        costs=[
            CostLine(category=cost.category, label=cost.label, amount=Decimal(cost.amount),
                     quantity=_decimal(cost.quantity), unit=cost.unit, unit_price=_decimal(cost.unit_price))
            for cost in record.costs
        ],
        details=record_details(record),
    )


def record_details(record: FlowRecord) -> dict[str, Any]:
    """Return the smart-bill sections of a record beyond the core bill fields, as plain JSON values.

    Keys without a value are left out, so a key is present only when the flow sent it.
    """
    document, customer, supply = record.document, record.customer, record.supply
    layout = costs_layout(record)
    details: dict[str, Any] = {
        "payment": {
            "method": document.payment_method,
            "payable_online": document.payable_online,
            "pagopa": document.pagopa,
        },
        "offer": document.offer,
        "market": document.market,
        "average_unit_price": document.average_unit_price,
        "supply": {
            "meter_serial": supply.meter_serial,
            "contracted_power_kw": supply.contracted_power_kw,
            "available_power_kw": supply.available_power_kw,
            "use": supply.use,
            "household_members": supply.household_members,
        },
        "customer": {
            "email": customer.email,
            "pec": customer.pec,
            "sdi_code": customer.sdi_code,
            "language": customer.language,
            "services": customer.services,
        },
        "costs_layout": layout,
        "receipt_costs": record.costs if layout == "receipt_2025" else None,
        "consumption": record.consumption,
        "readings": record.readings,
        "previous_payments": record.previous_payments,
        "annual_cost": record.annual_cost,
        "extra": record.extra,
    }
    compacted = _compact(msgspec.to_builtins(details))
    return compacted if isinstance(compacted, dict) else {}


def _compact(value: Any) -> Any:
    """Drop ``None`` values and the lists and objects left empty, at every depth."""
    if isinstance(value, dict):
        items = ((key, _compact(item)) for key, item in value.items())
        return {key: item for key, item in items if item not in (None, [], {})}
    if isinstance(value, list):
        return [_compact(item) for item in value]
    return value


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _contacts_from(
    record: FlowRecord, source_file: str, line: int
) -> tuple[list[ParsedContact], list[Rejection]]:
    """Return the record's contacts (``customer.contacts`` and ``customer.email``) and the invalid ones.

    An invalid contact is rejected on its own: the bill is still read.
    """
    customer = record.customer
    requested = [(f"customer.contacts[{index}].address", item.channel, item.address)
              for index, item in enumerate(customer.contacts)]
    if customer.email:
        requested.append(("customer.email", "email", customer.email))

    contacts: list[ParsedContact] = []
    rejected: list[Rejection] = []
    seen: set[tuple[str, str]] = set()
    for field, channel, raw in requested:
        address = _normalize_email(raw) if channel == "email" else _normalize_mobile(raw)
        if isinstance(address, Text):
            rejected.append(Rejection(file=source_file, record=f"line {line}", field=field,
                                      reason=address.with_params(file=source_file, line=line, field=field)))
            continue
        if (channel, address) in seen:
            continue
        seen.add((channel, address))
        contacts.append(ParsedContact(customer_code=customer.code, channel=channel, address=address,
                                      language=customer.language, row=line, source=FLOW_CONTACT_SOURCE))
    return contacts, rejected


def _normalize_mobile(raw: str) -> str | Text:
    """Return the E.164 form of a mobile number (Italy by default), or the reason it cannot be used."""
    number = read_mobile(raw)
    if number is PhoneProblem.INVALID:
        return T_("{file}, line {line}: the phone number {number} in {field} is not valid. Correct it, for "
                  "example 3331234567 or +393331234567. The bill is read without this contact.",
                  number=repr(raw))
    if number is PhoneProblem.NOT_MOBILE:
        return T_("{file}, line {line}: the phone number {number} in {field} is not a mobile number, so it "
                  "cannot receive SMS or WhatsApp messages. The bill is read without this contact.",
                  number=repr(raw))
    return number


def _normalize_email(raw: str) -> str | Text:
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        return T_("{file}, line {line}: the e-mail address {address} in {field} is not valid ({detail}). "
                  "Correct it. The bill is read without this contact.",
                  address=repr(raw), detail=str(exc))
