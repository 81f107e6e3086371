"""Reading of a contacts CSV: customer codes mapped to mobile numbers and e-mail addresses.

Columns are found by header name (Italian or English, any case); the delimiter is taken from the
header line. Row numbers in rejections count the header as row 1, as a spreadsheet shows them.
"""

from __future__ import annotations

import codecs
import csv
import io
import re

from email_validator import EmailNotValidError, validate_email

from bolletta.platform.contacts.phones import PhoneProblem, read_mobile
from bolletta.platform.i18n.message import T_, Text
from bolletta.platform.ingest.errors import ContactsFileRejected
from bolletta.platform.ingest.records import ParsedContact, Rejection

PHONE_CHANNELS = ("sms", "whatsapp")

_COLUMN_ALIASES = {
    "customer_code": ("codiceanagrafico", "codicecliente", "customercode"),
    "phone": ("cellulare", "cell", "telefono", "mobile"),
    "email": ("email",),
    "language": ("lingua", "language"),
    "channel": ("canale", "channel"),
}
"""Header names with case, spaces and punctuation removed (``Cell.`` and ``cell`` are the same)."""

_PHONE_SEPARATORS = re.compile(r"[/,;]")
_EMAIL_SEPARATORS = re.compile(r"[,;\s]+")
_LANGUAGE = re.compile(r"[a-z]{2}(-[a-z]{2})?")


def read_contacts(data: bytes, filename: str) -> tuple[list[ParsedContact], list[Rejection]]:
    """Read a contacts CSV, and return the usable contacts and the rejected cells.

    A row error (invalid number, landline, invalid address, missing customer code) rejects that
    value only. The rest of the row and of the file are still read.

    Raises:
        ContactsFileRejected: the file cannot be decoded or parsed as CSV, or has no customer code
            column.
    """
    text = _decode(data, filename)
    header_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = _sniff_delimiter(header_line)

    rows = _read_rows(text, delimiter, filename)
    if not rows:
        raise ContactsFileRejected(
            T_("{file} is empty. Send a header row and one row per customer.", file=filename)
        )

    columns = _map_columns(rows[0])
    if "customer_code" not in columns:
        raise ContactsFileRejected(
            T_(
                "{file} has no customer code column. Name one column codice_anagrafico, codice cliente "
                "or customer_code. The header found is {header}.",
                file=filename,
                header=repr(rows[0]),
            )
        )

    contacts: list[ParsedContact] = []
    rejected: list[Rejection] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        found, problems = _read_row(row, number, columns, filename)
        contacts.extend(found)
        rejected.extend(problems)
    return contacts, rejected


def _decode(data: bytes, filename: str) -> str:
    """Decode by BOM, else as UTF-8, else as windows-1252."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise ContactsFileRejected(
                    T_(
                        "{file} starts with a {encoding} byte order mark but is not valid {encoding} "
                        "({detail} at byte {position}). Save it again as UTF-8.",
                        file=filename,
                        encoding=encoding,
                        detail=exc.reason,
                        position=exc.start,
                    )
                ) from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("windows-1252")
    except UnicodeDecodeError as exc:
        raise ContactsFileRejected(
            T_(
                "{file} is neither UTF-8 nor windows-1252 text (byte {position}). Save it as UTF-8 CSV.",
                file=filename,
                position=exc.start,
            )
        ) from exc


def _sniff_delimiter(header_line: str) -> str:
    """Pick the most frequent of ``;``, ``,`` and tab in the header; ``;`` (Italian Excel) on a tie."""
    counts = {delimiter: header_line.count(delimiter) for delimiter in (";", ",", "\t")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] > counts[";"] else ";"


def _read_rows(text: str, delimiter: str, filename: str) -> list[list[str]]:
    # The csv module's cell limit (131,072 characters by default) stops a huge single cell. The limit
    # is a process-wide setting, so this reader does not change it.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return list(reader)
    except csv.Error as exc:
        raise ContactsFileRejected(
            T_(
                "{file} cannot be read as CSV near line {line} ({detail}). Check the quotes, and keep "
                "each cell under {limit} characters.",
                file=filename,
                line=reader.line_num,
                detail=str(exc),
                limit=csv.field_size_limit(),
            )
        ) from exc


def _map_columns(header: list[str]) -> dict[str, list[int]]:
    columns: dict[str, list[int]] = {}
    for index, name in enumerate(header):
        key = "".join(ch for ch in name.casefold() if ch.isalnum())
        for column, aliases in _COLUMN_ALIASES.items():
            if key in aliases:
                columns.setdefault(column, []).append(index)
    return columns


def _cells(row: list[str], columns: dict[str, list[int]], column: str) -> list[str]:
    return [
        row[index].strip() for index in columns.get(column, []) if index < len(row) and row[index].strip()
    ]


class _RowContext:
    """The row being read, and the rejections found in it."""

    def __init__(self, filename: str, number: int) -> None:
        self.filename = filename
        self.number = number
        self.rejected: list[Rejection] = []

    def reject(self, field: str, reason: Text) -> None:
        """Record ``reason``, whose ``{file}`` and ``{row}`` placeholders this fills in."""
        self.rejected.append(
            Rejection(
                file=self.filename,
                record=str(self.number),
                field=field,
                reason=reason.with_params(file=self.filename, row=self.number),
            )
        )


def _read_row(
    row: list[str], number: int, columns: dict[str, list[int]], filename: str
) -> tuple[list[ParsedContact], list[Rejection]]:
    context = _RowContext(filename, number)
    codes = _cells(row, columns, "customer_code")
    if not codes:
        context.reject(
            "customer_code", T_("{file}, row {row}: the customer code is empty. Fill it in or remove the row.")
        )
        return [], context.rejected

    language = _language(row, columns, context)
    channel = _phone_channel(row, columns, context)
    contacts: list[ParsedContact] = []
    for cell in _cells(row, columns, "phone"):
        for raw in filter(None, (part.strip() for part in _PHONE_SEPARATORS.split(cell))):
            address = _normalize_phone(raw)
            if isinstance(address, Text):
                context.reject("phone", address)
                continue
            contacts.append(
                ParsedContact(
                    customer_code=codes[0], channel=channel, address=address, language=language, row=number
                )
            )
    for cell in _cells(row, columns, "email"):
        for raw in filter(None, _EMAIL_SEPARATORS.split(cell)):
            try:
                address = validate_email(raw, check_deliverability=False).normalized
            except EmailNotValidError as exc:
                context.reject(
                    "email",
                    T_(
                        "{file}, row {row}: the e-mail address {address} is not valid ({detail}). Correct it.",
                        address=repr(raw),
                        detail=str(exc),
                    ),
                )
                continue
            contacts.append(
                ParsedContact(
                    customer_code=codes[0], channel="email", address=address, language=language, row=number
                )
            )
    return contacts, context.rejected


def _language(row: list[str], columns: dict[str, list[int]], context: _RowContext) -> str | None:
    language = next(iter(_cells(row, columns, "language")), None)
    if language is None:
        return None
    if not _LANGUAGE.fullmatch(language.lower()):
        context.reject(
            "language",
            T_(
                "{file}, row {row}: the language {language} is not a code such as 'it' or 'en'. Correct it.",
                language=repr(language),
            ),
        )
        return None
    return language.lower()


def _phone_channel(row: list[str], columns: dict[str, list[int]], context: _RowContext) -> str:
    """Return the channel for the row's mobile numbers: the preferred one when it is sms or whatsapp."""
    preferred = next(iter(_cells(row, columns, "channel")), None)
    if preferred is None:
        return "sms"
    if preferred.lower() in PHONE_CHANNELS:
        return preferred.lower()
    if preferred.lower() not in ("email", "e-mail"):
        context.reject(
            "channel",
            T_(
                "{file}, row {row}: the channel {channel} is not sms, whatsapp or email, so sms is used "
                "for the mobile numbers. Correct it if another channel is wanted.",
                channel=repr(preferred),
            ),
        )
    return "sms"


def _normalize_phone(raw: str) -> str | Text:
    """Return the E.164 form of a mobile number, or the reason it cannot be used."""
    number = read_mobile(raw)
    if number is PhoneProblem.INVALID:
        return T_(
            "{file}, row {row}: the phone number {number} is not valid. Correct it, for example "
            "3331234567 or +393331234567.",
            number=repr(raw),
        )
    if number is PhoneProblem.NOT_MOBILE:
        return T_(
            "{file}, row {row}: the phone number {number} is a landline or another non-mobile number, "
            "which cannot receive SMS or WhatsApp messages. Give a mobile number.",
            number=repr(raw),
        )
    return number
