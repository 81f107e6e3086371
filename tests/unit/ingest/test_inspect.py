"""Flow inspection: bill lines, problem lines and the summary, with nothing stored."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from pathlib import Path

from bolletta.platform.demo.flow import build_demo_flow
from bolletta.platform.ingest.inspect import inspect_flow

RIEPILOGO = "oca_l10n_italy/IT05979361218_ripilogoiva.xml"
RECORD = {
    "format": "bolletta-smart/1",
    "document": {"number": "W-9", "issue_date": "2025-03-01", "due_date": "2025-03-31", "amount_due": "41.20",
                 "pdf": "W-9.pdf"},
    "customer": {"code": "C-9", "name": "Anna Neri", "contacts": [{"channel": "email", "address": "anna@example.it"}]},
    "supply": {"service": "water"},
    "costs": [{"category": "supply", "label": "Acqua", "amount": "30.00"},
              {"category": "supply", "label": "Fognatura", "amount": "7.45"},
              {"category": "vat", "label": "IVA 10%", "amount": "3.75"}],
    "readings": [{"date": "2025-02-28", "type": "customer", "value": "812"}],
}


def build_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_fatturapa_bill_line(samples_dir: Path) -> None:
    data = (samples_dir / "fatturapa" / RIEPILOGO).read_bytes()
    inspection = inspect_flow(data, "bill.xml")

    assert inspection.rejected == 0
    bill, summary = inspection.lines
    assert bill["document_number"] == "GR20-900443E"
    assert bill["type"] == "invoice"
    assert (bill["issue_date"], bill["due_date"]) == ("2020-10-06", "2020-11-05")
    assert bill["amount_due"] == "204.16"
    assert bill["instalments"] == [
        {"amount": "204.16", "due_date": "2020-11-05", "method": "MP05", "notice_code": None}
    ]
    assert (bill["customer_code"], bill["customer_name"]) == ("03533590174", "BETA GAMMA")
    assert (bill["service"], bill["pod"]) == ("electricity", "IT001E14607435")
    assert bill["period"] == {"from": "2020-09-01", "to": "2020-09-30"}
    assert bill["consumption"] == {"value": "905.00", "unit": "kWh"}
    assert [item["category"] for item in bill["cost_categories"]] == [
        "excise", "transport_meter", "supply", "other", "vat"
    ]
    assert {"category": "transport_meter", "amount": "79.41000000"} in bill["cost_categories"]
    assert bill["has_pdf"] is False
    assert summary == {"summary": {"bills": 1, "rejected": 0, "ignored": 0, "contacts": 0,
                                   "archive_rejected": False}}
    # Every line is plain JSON.
    assert json.loads(json.dumps(inspection.lines)) == inspection.lines


def test_jsonl_bill_and_problems() -> None:
    flow = json.dumps(RECORD) + "\n" + '{"format": "bolletta-smart/1", "document": {}}\n'
    data = build_zip({"flow.jsonl": flow.encode(), "W-9.pdf": b"%PDF-1.4\n", "notes.txt": b"x"})
    inspection = inspect_flow(data, "flow.zip", language="it")

    assert inspection.rejected == 1
    bill, rejected, ignored, summary = inspection.lines
    assert bill["document_number"] == "W-9"
    assert bill["has_pdf"] is True
    assert bill["cost_categories"] == [{"category": "supply", "amount": "37.45"},
                                       {"category": "vat", "amount": "3.75"}]
    assert bill["contacts"] == [{"channel": "email", "source": "flow"}]
    assert bill["details"] == ["costs_layout", "readings"]
    assert rejected["problem"] == "rejected"
    assert (rejected["file"], rejected["record"], rejected["field"]) == ("flow.jsonl", "line 2", "document")
    assert rejected["reason"].startswith("flow.jsonl, riga 2: il campo document non è valido")
    assert ignored == {"problem": "ignored", "file": "notes.txt", "record": None, "field": None,
                       "reason": "non è un file di bollette, di recapiti o un PDF, quindi non è stato letto"}
    assert summary["summary"]["rejected"] == 1


def test_archive_rejected() -> None:
    inspection = inspect_flow(b"not a zip", "flow.zip")

    assert inspection.rejected == 1
    problem, summary = inspection.lines
    assert problem["problem"] == "archive_rejected"
    assert problem["reason"].startswith("flow.zip is not a readable ZIP archive")
    assert summary["summary"]["archive_rejected"] is True


def test_demo_flow_inspects_clean() -> None:
    demo = build_demo_flow(issue_date=date(2026, 11, 3))
    inspection = inspect_flow(demo.archive, demo.filename)

    assert inspection.rejected == 0
    bills = [line for line in inspection.lines if "document_number" in line]
    assert [line["document_number"] for line in bills] == demo.document_numbers
    assert {line["customer_code"] for line in bills} <= {customer.code for customer in demo.customers}
    assert all(line["contacts"] for line in bills)
    assert inspection.lines[-1]["summary"]["bills"] == len(demo.document_numbers)
