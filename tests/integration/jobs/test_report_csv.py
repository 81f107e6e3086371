"""The job report as a CSV download: Italian, BOM and ';', masked values, formula injection, audit."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from bolletta.platform.db.models.tenant import AuditEntry, Job
from bolletta.platform.i18n.message import T_, to_json
from bolletta.platform.jobs.opening import open_job
from bolletta.platform.office.report import report_csv, safe_cell
from bolletta.platform.stack import EmbeddedStack
from tests.integration.flow_records import jsonl_lines, jsonl_record
from tests.integration.stack_support import StaffLogin, signed_in_client, wait_idle, web_client, zip_archive

HYPERLINK = '=HYPERLINK("http://evil","Clicca")'
DDE = "@SUM(1+1)*cmd|' /C calc'!A0"
JOB_CONTACTS = (
    b"codice_anagrafico;cellulare;email\r\n"
    b"C-1;=cmd|' /C calc'!A0;\r\n"
    b"C-2;06 1234 5678;\r\n"
    b"C-3;;mario@@example.it\r\n"
)


def _rows(data: bytes) -> list[list[str]]:
    assert data.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(data[len(codecs.BOM_UTF8):].decode("utf-8"), newline=""), delimiter=";"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (HYPERLINK, "'" + HYPERLINK),
        (DDE, "'" + DDE),
        ("+39 333", "'+39 333"),
        ("-12,50", "'-12,50"),
        ("  =1+1", "'  =1+1"),
        ("\t=1+1", "'\t=1+1"),
        ("\rcmd", "'\rcmd"),
        ("＝1+1", "'＝1+1"),
        ("Mario Rossi", "Mario Rossi"),
        ("", ""),
    ],
)
def test_safe_cell_cases(value: str, expected: str) -> None:
    assert safe_cell(value) == expected


def test_amounts_stay_numbers() -> None:
    job = Job(id=7, filename="f.zip", bills_accepted=1, report={
        "review": [{"check": "amount_change", "document_number": "N-1", "file": "f.jsonl", "record": "1",
                    "field": "amount_due", "value": "-12.50",
                    "warning": to_json(T_("Invoice with amount due {amount}. Check the bill before approval.",
                                          amount="-12.50")),
                    "fix": to_json(T_("Check the bill before approval."))}],
        "without_contact": [HYPERLINK, "RSSMRA80A01H501U"],
    }, created_at=datetime.now(UTC))

    data, problems = report_csv(job)

    rows = _rows(data)
    assert problems == 3
    [review_row] = [row for row in rows if row[:2] == ["Da verificare prima del benestare", "f.jsonl"]]
    assert review_row[4] == "-12,50"
    assert review_row[5] == "Fattura con importo da pagare -12.50. Controlla la bolletta prima del benestare."
    values = [row[4] for row in rows if row and row[0] == "Cliente senza recapito utilizzabile"]
    assert values == ["'" + HYPERLINK, "RSS••••••••••01U"]
    assert Decimal(review_row[4].replace(",", ".")) == Decimal("-12.50")


def test_download_masked_and_audited(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    flow = jsonl_lines(jsonl_record("D-1", "C-1"), jsonl_record("D-2", DDE), jsonl_record("D-3", "C-3"))
    archive = zip_archive({"emissione.jsonl": flow, "contacts.csv": JOB_CONTACTS})
    opened = open_job(stack.rt, tenant, archive, "report.zip", source="api", opened_by="api:test")
    wait_idle(stack)

    with signed_in_client(stack, operator) as client:
        response = client.get(f"/office/jobs/{opened.job_id}/report.csv")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    rows = _rows(response.content)
    assert rows[0] == ["Voce", "Numero"]
    assert ["Bollette accettate", "3"] in rows or ["Fatture accettate", "3"] in rows
    header = ["Problema", "File", "Record", "Campo", "Valore", "Motivo", "Correzione suggerita"]
    assert header in rows
    problems = rows[rows.index(header) + 1:]
    rejected = {row[2]: row for row in problems if row[0] == "Record scartato"}
    # The reader splits the cell at '/', so row 2 gives two rejected values; the first starts with '='.
    first_of_row_2 = next(row for row in problems if row[0] == "Record scartato" and row[2] == "2")
    assert first_of_row_2[4] == "'=cm ••• ••|'"
    assert rejected["3"][4] == "061 ••• ••78"
    assert "1234 5678" not in response.content.decode("utf-8-sig")
    assert rejected["4"][4] == "m•••@@example.it"
    assert all(row[6] for row in problems)
    without_contact = [row[4] for row in problems if row[0] == "Cliente senza recapito utilizzabile"]
    assert "'" + DDE in without_contact
    for row in problems:
        for cell in row:
            assert not cell or cell[0] not in "=+-@\t\r", row

    with stack.rt.db.tenant_session(tenant) as session:
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "personal_data.bulk_read")).all()
    assert entry.target == f"job:{opened.job_id}"
    assert entry.user_id == operator.staff.user_id
    assert entry.detail["export"] == "job_report.csv"
    assert entry.detail["rows"] == len(problems)


def test_download_needs_sign_in(stack: EmbeddedStack, tenant: str) -> None:
    with web_client(stack) as client:
        response = client.get("/office/jobs/1/report.csv")

    assert response.status_code in (302, 303)
