"""CSV and XLSX files of a list, safe to open in a spreadsheet.

CSV: UTF-8 with a byte order mark (so Excel reads the accents), ``;`` between fields, decimals with
a comma. Text that a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return) gets a leading apostrophe. Numbers stay numbers: real numeric cells in
XLSX, digits with a decimal comma in CSV. XLSX is written by xlsxwriter in constant-memory mode.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

import xlsxwriter

from bolletta.platform.clock import ROME, as_utc

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def neutralise(text: str) -> str:
    """``text`` with a leading apostrophe when a spreadsheet would run it as a formula."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def csv_value(value: Any) -> str:
    """Format one CSV field: Italian decimals, Rome dates, neutralised text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "sì" if value else "no"
    if isinstance(value, Decimal | float):
        return format(Decimal(str(value)).quantize(Decimal("0.01")), "f").replace(".", ",")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return as_utc(value).astimezone(ROME).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return neutralise(str(value))


def write_csv(out: IO[str], headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write the CSV to a text stream; return the number of data rows."""
    out.write(BOM)
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralise(header) for header in headers])
    count = 0
    for row in rows:
        writer.writerow([csv_value(value) for value in row])
        count += 1
    return count


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> tuple[bytes, int]:
    """Return the CSV file in memory and its row count."""
    buffer = io.StringIO()
    count = write_csv(buffer, headers, rows)
    return buffer.getvalue().encode("utf-8"), count


def write_xlsx(target: str | IO[bytes], headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write the XLSX to a path or binary stream; return the number of data rows."""
    options: dict[str, Any] = {"constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
                               "strings_to_urls": False, "remove_timezone": True}
    if not isinstance(target, str):
        options["in_memory"] = True
    workbook = xlsxwriter.Workbook(target, options)
    sheet = workbook.add_worksheet()

    bold = workbook.add_format({"bold": True})
    money = workbook.add_format({"num_format": "#,##0.00"})
    moment = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    day = workbook.add_format({"num_format": "dd/mm/yyyy"})
    for column, header in enumerate(headers):
        sheet.write_string(0, column, neutralise(header), bold)

    count = 0
    for count, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, bool):
                sheet.write_boolean(count, column, value)
            elif isinstance(value, Decimal | float):
                sheet.write_number(count, column, float(value), money)
            elif isinstance(value, int):
                sheet.write_number(count, column, value)
            elif isinstance(value, datetime):
                sheet.write_datetime(count, column, as_utc(value).astimezone(ROME).replace(tzinfo=None), moment)
            elif isinstance(value, date):
                sheet.write_datetime(count, column, datetime(value.year, value.month, value.day), day)  # noqa: DTZ001
            else:
                sheet.write_string(count, column, neutralise(str(value)))
    workbook.close()
    return count


def xlsx_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> tuple[bytes, int]:
    """Return the XLSX file in memory and its row count."""
    buffer = io.BytesIO()
    count = write_xlsx(buffer, headers, rows)
    return buffer.getvalue(), count
