"""CSV and XLSX writing: BOM, separator, Italian decimals, formula neutralisation, numbers kept as numbers."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

import openpyxl
import pytest

from bolletta.platform.office import spreadsheet


@pytest.mark.parametrize(("text", "expected"), [
    ("=SUM(A1)", "'=SUM(A1)"), ("+39333", "'+39333"), ("-2", "'-2"), ("@cmd", "'@cmd"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("Rossi", "Rossi"), ("a=b", "a=b"), ("", ""),
])
def test_neutralise(text: str, expected: str) -> None:
    assert spreadsheet.neutralise(text) == expected


def test_csv_has_bom_semicolons_and_italian_decimals() -> None:
    rows = [("=HYPERLINK(\"x\")", Decimal("1234.5"), 7, datetime(2025, 1, 31, 23, 30, tzinfo=UTC), None, True)]
    content, count = spreadsheet.csv_bytes(["Nome", "Importo", "N", "Data", "Vuoto", "Pagata"], rows)

    text = content.decode("utf-8")
    assert count == 1
    assert text.startswith("\ufeffNome;Importo;N;Data;Vuoto;Pagata\r\n")
    assert text.splitlines()[1] == '"\'=HYPERLINK(""x"")";1234,50;7;01/02/2025 00:30;;sì'


def test_xlsx_keeps_numbers_and_neutralises_text() -> None:
    rows = [("-1+2", Decimal("80.10"), 3, "@SUM(1)", datetime(2025, 1, 31, 23, 30, tzinfo=UTC))]
    content, count = spreadsheet.xlsx_bytes(["Testo", "Importo", "N", "Altro", "Data"], rows)

    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert count == 1
    values = [cell.value for cell in sheet[2]]
    assert values[0] == "'-1+2"
    assert values[1] == pytest.approx(80.10)
    assert isinstance(values[1], float)
    assert values[2] == 3
    assert values[3] == "'@SUM(1)"
    assert values[4] == datetime(2025, 2, 1, 0, 30)
    assert all(cell.data_type != "f" for cell in sheet[2])
