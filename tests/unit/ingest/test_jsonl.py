"""The Bolletta Smart JSON Lines flow: schema, line-by-line rejection, mapping to bills and details."""

from __future__ import annotations

import copy
import io
import json
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from bolletta.platform.i18n.message import render
from bolletta.platform.ingest.flow_schema import FORMAT, FlowRecord, flow_json_schema
from bolletta.platform.ingest.jsonl import read_jsonl
from bolletta.platform.ingest.reader import read_flow

PDF = b"%PDF-1.4\n%test\n"

FULL_RECORD: dict[str, Any] = {
    "format": "bolletta-smart/1",
    "document": {
        "number": "2025/E/000123",
        "series": "E",
        "year": 2025,
        "type": "invoice",
        "issue_date": "2025-08-05",
        "due_date": "2025-08-25",
        "period": {"from": "2025-06-01", "to": "2025-07-31"},
        "amount_due": "4082.00",
        "total": "4082.00",
        "currency": "EUR",
        "payment_method": "pagopa",
        "payable_online": True,
        "pagopa": {"notice_code": "301000000000012345", "creditor_fiscal_code": "01234567890"},
        "pdf": "pdf/2025_E_000123.pdf",
        "offer": {"name": "Luce Casa Fissa", "code": "LCF-24"},
        "market": "free",
        "average_unit_price": "0.2871",
    },
    "customer": {
        "code": "C-000981",
        "name": "Maria Esposito",
        "fiscal_code": "SPSMRA80A41F839X",
        "address": "Via Roma 1, 80100 Napoli NA",
        "email": "Maria.Esposito@Example.COM",
        "pec": "maria.esposito@pec.example.it",
        "sdi_code": "0000000",
        "language": "it",
        "contacts": [
            {"channel": "sms", "address": "333 123 4567"},
            {"channel": "whatsapp", "address": "+39 347 765 4321"},
        ],
        "services": {"bill_by_email": True, "bill_by_post": False, "detailed_bill": False},
    },
    "supply": {
        "service": "electricity",
        "pod": "IT001E12345678",
        "meter_serial": "M-998877",
        "address": "Via Roma 1, 80100 Napoli NA",
        "contracted_power_kw": "3.0",
        "available_power_kw": "3.3",
        "use": "domestic_resident",
    },
    "costs_layout": "receipt_2025",
    "costs": [
        {"category": "consumption_quota", "part": "sale", "label": "Quota energia", "amount": "2100.00",
         "quantity": "7315", "unit": "kWh", "unit_price": "0.287081"},
        {"category": "consumption_quota", "part": "network_system", "label": "Quota rete e oneri",
         "amount": "900.00"},
        {"category": "fixed_quota", "part": "sale", "label": "Quota fissa", "amount": "120.00"},
        {"category": "excise", "label": "Accise", "amount": "224.00"},
        {"category": "vat", "label": "IVA 10%", "amount": "738.00"},
    ],
    "consumption": {
        "unit": "kWh",
        "billed": "7315",
        "actual": "7000",
        "estimated": "315",
        "annual": "41000",
        "annual_period": {"from": "2024-08-01", "to": "2025-07-31"},
        "by_band": {"F1": "3000", "F2": "2315", "F3": "2000"},
        "history": [{"period": "2025-04", "value": "3300"}, {"period": "2025-05", "value": "3500"}],
    },
    "readings": [
        {"date": "2025-07-31", "type": "actual", "value": "120450", "band": "F1"},
        {"date": "2025-05-31", "type": "estimated", "value": "113135"},
    ],
    "previous_payments": {"status": "outstanding", "outstanding_amount": "87.40", "note": "Bolletta di aprile"},
    "annual_cost": {"amount": "11800.00", "from": "2024-08-01", "to": "2025-07-31"},
    "extra": {"promo": "Sconto fedeltà 5%", "points": 120},
}

MINIMAL_RECORD: dict[str, Any] = {
    "format": "bolletta-smart/1",
    "document": {"number": "A-1", "issue_date": "2024-03-01", "due_date": "2024-03-21", "amount_due": "55.10"},
    "customer": {"code": "C-1", "name": "Luca Bianchi"},
    "supply": {"service": "water"},
}


def lines(*records: dict[str, Any] | str) -> bytes:
    return "\n".join(item if isinstance(item, str) else json.dumps(item) for item in records).encode() + b"\n"


def with_change(record: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Return a copy of ``record`` with the dotted ``path`` set to ``value`` (deleted when ``...``)."""
    changed = copy.deepcopy(record)
    *parents, last = path.split(".")
    target = changed
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is ...:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return changed


def test_full_record_core_fields() -> None:
    reading = read_jsonl(lines(FULL_RECORD), "flow.jsonl")

    assert reading.rejected == []
    [bill] = reading.bills
    assert bill.source_file == "flow.jsonl"
    assert bill.body_index == 1
    assert bill.document_number == "2025/E/000123"
    assert (bill.series, bill.year, bill.document_type) == ("E", 2025, "TD01")
    assert bill.issue_date == date(2025, 8, 5)
    assert bill.due_date == date(2025, 8, 25)
    assert bill.amount_due == Decimal("4082.00")
    assert bill.total == Decimal("4082.00")
    assert bill.payment_method == "MP23"
    assert bill.direct_debit is False
    assert [(item.amount, item.due_date, item.notice_code) for item in bill.instalments] == [
        (Decimal("4082.00"), date(2025, 8, 25), "301000000000012345")
    ]
    assert (bill.customer_code, bill.customer_name) == ("C-000981", "Maria Esposito")
    assert bill.fiscal_code == "SPSMRA80A41F839X"
    assert (bill.service, bill.pod, bill.pdr) == ("electricity", "IT001E12345678", None)
    assert (bill.period_from, bill.period_to) == (date(2025, 6, 1), date(2025, 7, 31))
    assert (bill.consumption, bill.consumption_unit) == (Decimal("7315"), "kWh")
    assert [(cost.category, cost.amount) for cost in bill.costs] == [
        ("consumption_quota", Decimal("2100.00")),
        ("consumption_quota", Decimal("900.00")),
        ("fixed_quota", Decimal("120.00")),
        ("excise", Decimal("224.00")),
        ("vat", Decimal("738.00")),
    ]
    assert bill.costs[0].unit_price == Decimal("0.287081")
    assert [(item.path, item.line) for item in reading.pdf_references] == [("pdf/2025_E_000123.pdf", 1)]


def test_full_record_details() -> None:
    [bill] = read_jsonl(lines(FULL_RECORD), "flow.jsonl").bills
    details = bill.details

    assert details["readings"] == [
        {"date": "2025-07-31", "type": "actual", "value": "120450", "band": "F1"},
        {"date": "2025-05-31", "type": "estimated", "value": "113135"},
    ]
    assert details["consumption"]["by_band"] == {"F1": "3000", "F2": "2315", "F3": "2000"}
    assert details["consumption"]["history"][1] == {"period": "2025-05", "value": "3500"}
    assert details["consumption"]["annual"] == "41000"
    assert details["consumption"]["annual_period"] == {"from": "2024-08-01", "to": "2025-07-31"}
    assert details["previous_payments"] == {
        "status": "outstanding", "outstanding_amount": "87.40", "note": "Bolletta di aprile"
    }
    assert details["annual_cost"] == {"amount": "11800.00", "from": "2024-08-01", "to": "2025-07-31"}
    assert details["offer"] == {"name": "Luce Casa Fissa", "code": "LCF-24"}
    assert details["market"] == "free"
    assert details["average_unit_price"] == "0.2871"
    assert details["payment"] == {
        "method": "pagopa",
        "payable_online": True,
        "pagopa": {"notice_code": "301000000000012345", "creditor_fiscal_code": "01234567890"},
    }
    assert details["supply"] == {
        "meter_serial": "M-998877", "contracted_power_kw": "3.0", "available_power_kw": "3.3",
        "use": "domestic_resident",
    }
    assert details["customer"]["pec"] == "maria.esposito@pec.example.it"
    assert details["customer"]["sdi_code"] == "0000000"
    assert details["customer"]["language"] == "it"
    assert details["customer"]["services"] == {"bill_by_email": True, "bill_by_post": False, "detailed_bill": False}
    assert details["costs_layout"] == "receipt_2025"
    assert details["receipt_costs"][1]["part"] == "network_system"
    assert details["extra"] == {"promo": "Sconto fedeltà 5%", "points": 120}
    # The details are plain JSON, as the bill's JSON column stores them.
    assert json.loads(json.dumps(details)) == details


def test_minimal_record_defaults() -> None:
    reading = read_jsonl(lines(MINIMAL_RECORD), "flow.jsonl")

    [bill] = reading.bills
    assert (bill.series, bill.year, bill.currency, bill.document_type) == ("", 2024, "EUR", "TD01")
    assert bill.payment_method is None
    assert bill.consumption is None
    assert bill.costs == []
    assert bill.details == {"costs_layout": "summary_2016"}
    assert reading.contacts == []
    assert reading.pdf_references == []


def test_credit_note_and_direct_debit() -> None:
    record = with_change(MINIMAL_RECORD, "document.type", "credit_note")
    record = with_change(record, "document.payment_method", "direct_debit")
    [bill] = read_jsonl(lines(record), "flow.jsonl").bills

    assert bill.is_credit_note
    assert bill.direct_debit is True
    assert bill.payment_method == "MP19"


@pytest.mark.parametrize(
    ("service", "issue_date", "layout"),
    [
        ("electricity", "2025-06-30", "summary_2016"),
        ("electricity", "2025-07-01", "receipt_2025"),
        ("gas", "2025-09-10", "receipt_2025"),
        ("water", "2025-09-10", "summary_2016"),
    ],
)
def test_costs_layout_default_by_date(service: str, issue_date: str, layout: str) -> None:
    record = with_change(MINIMAL_RECORD, "supply.service", service)
    record = with_change(record, "document.issue_date", issue_date)
    [bill] = read_jsonl(lines(record), "flow.jsonl").bills

    assert bill.details["costs_layout"] == layout


def test_contacts_become_flow_contacts() -> None:
    reading = read_jsonl(lines(MINIMAL_RECORD, FULL_RECORD), "flow.jsonl")

    assert [(c.customer_code, c.channel, c.address, c.language, c.row, c.source) for c in reading.contacts] == [
        ("C-000981", "sms", "+393331234567", "it", 2, "flow"),
        ("C-000981", "whatsapp", "+393477654321", "it", 2, "flow"),
        ("C-000981", "email", "Maria.Esposito@example.com", "it", 2, "flow"),
    ]


def test_invalid_contact_keeps_bill() -> None:
    record = with_change(FULL_RECORD, "customer.contacts", [
        {"channel": "sms", "address": "12345"},
        {"channel": "sms", "address": "06 1234 5678"},
        {"channel": "email", "address": "not-an-address"},
    ])
    reading = read_jsonl(lines(record), "flow.jsonl")

    assert len(reading.bills) == 1
    assert [(item.record, item.field) for item in reading.rejected] == [
        ("line 1", "customer.contacts[0].address"),
        ("line 1", "customer.contacts[1].address"),
        ("line 1", "customer.contacts[2].address"),
    ]
    reasons = [render(item.reason, "en") for item in reading.rejected]
    assert reasons[0].startswith("flow.jsonl, line 1: the phone number '12345' in customer.contacts[0].address")
    assert "is not a mobile number" in reasons[1]
    assert "the e-mail address 'not-an-address'" in reasons[2]
    assert [contact.channel for contact in reading.contacts] == ["email"]


BAD_LINES = [
    (with_change(MINIMAL_RECORD, "document.amount_due", "4.082,00"), "document.amount_due",
     'Expected a decimal string with a dot, such as "4082.00"'),
    (with_change(MINIMAL_RECORD, "document.amount_due", 55.1), "document.amount_due", "Expected `str`, got `float`"),
    (with_change(MINIMAL_RECORD, "document.amount_due", "NaN"), "document.amount_due", "decimal string"),
    (with_change(MINIMAL_RECORD, "document.issue_date", "01/03/2024"), "document.issue_date", "date"),
    (with_change(MINIMAL_RECORD, "document.number", ...), "document", "missing required field `number`"),
    (with_change(MINIMAL_RECORD, "document.type", "Invoice"), "document.type", "Invalid enum value 'Invoice'"),
    (with_change(MINIMAL_RECORD, "supply.service", "GAS"), "supply.service", "Invalid enum value 'GAS'"),
    (with_change(MINIMAL_RECORD, "customer", ...), None, "the record is not valid: Object missing required field"),
    (with_change(MINIMAL_RECORD, "customer.ammount", "1"), "customer", "unknown field `ammount`"),
    (with_change(MINIMAL_RECORD, "costs", [{"category": "supply", "label": "x", "amount": "1", "vat": 1}]),
     "costs[0]", "unknown field `vat`"),
    (with_change(FULL_RECORD, "readings.1.type", "guess"), "readings[1].type", "Invalid enum value 'guess'"),
    (with_change(FULL_RECORD, "consumption.by_band.F1", 3000), "consumption.by_band.F1",
     "Expected `str | null`, got `int`"),
    (with_change(FULL_RECORD, "document.period.to", "2025-05-01"), "document.period", "is after the end"),
    (with_change(FULL_RECORD, "costs.3.category", "supply"), "costs[3].category",
     "cost category supply does not belong to the receipt_2025 layout"),
    (with_change(FULL_RECORD, "costs.0.part", ...), "costs[0].part", "needs a part"),
    (with_change(MINIMAL_RECORD, "costs", [{"category": "vat", "label": "IVA", "amount": "1", "part": "sale"}]),
     "costs[0].part", "is not split into parts"),
    (with_change(MINIMAL_RECORD, "format", "bolletta-smart/2"), "format",
     'the format field is "bolletta-smart/2", but this platform reads bolletta-smart/1'),
    (with_change(MINIMAL_RECORD, "format", ...), "format", "the format field is missing"),
    ("{\"format\": \"bolletta-smart/1\", ", None, "the line is not a JSON object"),
    ("[1, 2]", None, "the line is not a JSON object"),
]


@pytest.mark.parametrize(("line", "field", "reason"), BAD_LINES)
def test_bad_line_rejected_others_read(line: dict[str, Any] | str, field: str | None, reason: str) -> None:
    reading = read_jsonl(lines(MINIMAL_RECORD, line, FULL_RECORD), "flow.jsonl")

    assert [bill.body_index for bill in reading.bills] == [1, 3]
    [rejection] = reading.rejected
    assert rejection.file == "flow.jsonl"
    assert rejection.record == "line 2"
    assert rejection.field == field
    text = render(rejection.reason, "en")
    assert text.startswith("flow.jsonl, line 2: ")
    assert reason in text


def test_line_numbers_count_blank_lines() -> None:
    data = b"\xef\xbb\xbf" + lines(MINIMAL_RECORD).replace(b"\n", b"\r\n") + b"\r\n  \n" + b"not json\n"
    reading = read_jsonl(data, "flow.jsonl")

    assert len(reading.bills) == 1
    assert [item.record for item in reading.rejected] == ["line 4"]


def test_invalid_utf8_line_rejected() -> None:
    data = lines(MINIMAL_RECORD) + b'{"format": "\xff"}\n'
    reading = read_jsonl(data, "flow.jsonl")

    assert len(reading.bills) == 1
    assert "is not UTF-8 text (byte 13)" in render(reading.rejected[0].reason, "en")


def test_repeated_document_rejected() -> None:
    reading = read_jsonl(lines(MINIMAL_RECORD, FULL_RECORD, MINIMAL_RECORD), "flow.jsonl")

    assert [bill.body_index for bill in reading.bills] == [1, 2]
    assert [(item.record, item.field) for item in reading.rejected] == [("line 3", "document.number")]
    assert "already on line 1" in render(reading.rejected[0].reason, "en")


def test_reasons_translated() -> None:
    reading = read_jsonl(lines(*[line for line, _field, _reason in BAD_LINES]), "flow.jsonl")

    assert len(reading.rejected) == len(BAD_LINES)
    for item in reading.rejected:
        assert render(item.reason, "it") != render(item.reason, "en")


def test_schema_required_fields() -> None:
    schema = flow_json_schema()
    definitions = schema["$defs"]

    assert schema["$ref"] == "#/$defs/FlowRecord"
    assert set(definitions["FlowRecord"]["required"]) == {"format", "document", "customer", "supply"}
    assert definitions["FlowRecord"]["properties"]["format"] == {"enum": [FORMAT]}
    assert set(definitions["Document"]["required"]) == {"number", "issue_date", "due_date", "amount_due"}
    assert set(definitions["Customer"]["required"]) == {"code", "name"}
    assert definitions["Supply"]["required"] == ["service"]
    assert set(definitions["Cost"]["required"]) == {"category", "label", "amount"}
    assert "from" in definitions["Period"]["properties"]
    assert definitions["FlowRecord"]["additionalProperties"] is False


def test_schema_validates_records() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(
        flow_json_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )

    validator.validate(FULL_RECORD)
    validator.validate(MINIMAL_RECORD)
    for path, value in (("document.amount_due", "4.082,00"), ("supply.service", "GAS"),
                        ("document.number", ...), ("customer.ammount", "1")):
        assert not validator.is_valid(with_change(FULL_RECORD, path, value)), path


def test_period_encodes_from_key() -> None:
    record = msgspec.convert(FULL_RECORD, FlowRecord)

    assert record.document.period is not None
    assert record.document.period.from_ == date(2025, 6, 1)
    assert json.loads(msgspec.json.encode(record))["document"]["period"] == {"from": "2025-06-01", "to": "2025-07-31"}


def test_pdf_path_attached_by_reader() -> None:
    other = with_change(MINIMAL_RECORD, "document.pdf", "missing/A-1.pdf")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data/flow.jsonl", lines(FULL_RECORD, other))
        archive.writestr("PDF/2025_E_000123.PDF", PDF)
    reading = read_flow(buffer.getvalue(), "flow.zip")

    first, second = reading.bills
    assert [(item.name, item.content) for item in first.attachments] == [("2025_E_000123.PDF", PDF)]
    assert second.attachments == []
    assert "The PDF missing/A-1.pdf named in data/flow.jsonl, line 2 is not in the archive" in render(
        second.warnings[-1], "en"
    )
    assert reading.ignored == []
    assert [contact.source for contact in reading.contacts] == ["flow", "flow", "flow"]


def test_docs_example_record_reads() -> None:
    text = (Path(__file__).resolve().parents[3] / "docs" / "flow-format.md").read_text(encoding="utf-8")
    example = text.split("## Example record", 1)[1].split("```json\n", 1)[1].split("```", 1)[0]
    record = json.loads(example)
    reading = read_jsonl(json.dumps(record).encode(), "example.jsonl")

    assert reading.rejected == []
    assert [bill.document_number for bill in reading.bills] == ["2025/E/000123"]
