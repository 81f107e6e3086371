"""Enrichment: a JSON Lines record with a FatturaPA bill's document number adds its details to that bill."""

from __future__ import annotations

import copy
import io
import json
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from bolletta.platform.i18n.message import render
from bolletta.platform.ingest.reader import read_flow

PDF = b"%PDF-1.4\n%flow\n"
RIEPILOGO = "oca_l10n_italy/IT05979361218_ripilogoiva.xml"
FPR03 = "oca_l10n_italy/IT01234567890_FPR03.xml"

RECORD: dict[str, Any] = {
    "format": "bolletta-smart/1",
    "document": {"number": "GR20-900443E", "issue_date": "2020-10-06", "due_date": "2020-11-05",
                 "amount_due": "204.16"},
    "customer": {"code": "C-77", "name": "Beta Gamma S.r.l.", "language": "it",
                 "contacts": [{"channel": "sms", "address": "3331234567"}]},
    "supply": {"service": "electricity", "pod": "IT001E99999999", "meter_serial": "M-1"},
    "consumption": {"unit": "kWh", "billed": "999", "by_band": {"F1": "400", "F2": "300", "F3": "205"},
                    "history": [{"period": "2020-08", "value": "870"}]},
    "readings": [{"date": "2020-09-30", "type": "actual", "value": "15230"}],
    "previous_payments": {"status": "regular"},
}


def sample(samples_dir: Path, relative: str) -> bytes:
    return (samples_dir / "fatturapa" / relative).read_bytes()


def build_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def jsonl(*records: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(record).encode() + b"\n" for record in records)


def record_with(**document: Any) -> dict[str, Any]:
    record = copy.deepcopy(RECORD)
    record["document"].update(document)
    return record


def test_record_enriches_fatturapa_bill(samples_dir: Path) -> None:
    data = build_zip({"bill.xml": sample(samples_dir, RIEPILOGO), "flow.jsonl": jsonl(RECORD)})
    reading = read_flow(data, "flow.zip")

    assert reading.rejected == []
    [bill] = reading.bills
    assert bill.source_file == "bill.xml"
    assert bill.details["readings"] == [{"date": "2020-09-30", "type": "actual", "value": "15230"}]
    assert bill.details["consumption"]["by_band"] == {"F1": "400", "F2": "300", "F3": "205"}
    assert bill.details["consumption"]["history"] == [{"period": "2020-08", "value": "870"}]
    assert bill.details["previous_payments"] == {"status": "regular"}
    assert bill.details["supply"] == {"meter_serial": "M-1"}
    assert bill.details["enriched_from"] == {"file": "flow.jsonl", "line": 1}
    assert bill.warnings == []


def test_fatturapa_core_fields_kept(samples_dir: Path) -> None:
    data = build_zip({"bill.xml": sample(samples_dir, RIEPILOGO), "flow.jsonl": jsonl(RECORD)})
    [bill] = read_flow(data, "flow.zip").bills

    assert bill.customer_code == "03533590174"
    assert bill.customer_name == "BETA GAMMA"
    assert bill.pod == "IT001E14607435"
    assert bill.consumption == Decimal("905.00")
    assert bill.amount_due == Decimal("204.16")
    assert bill.payment_method == "MP05"
    assert {cost.category for cost in bill.costs} == {"excise", "transport_meter", "supply", "other", "vat"}


def test_record_contacts_follow_bill(samples_dir: Path) -> None:
    data = build_zip({"bill.xml": sample(samples_dir, RIEPILOGO), "flow.jsonl": jsonl(RECORD)})
    reading = read_flow(data, "flow.zip")

    assert sorted((c.customer_code, c.channel, c.address, c.source) for c in reading.contacts) == [
        ("03533590174", "sms", "+393331234567", "flow"),
        ("C-77", "sms", "+393331234567", "flow"),
    ]


def test_differences_warned_not_applied(samples_dir: Path) -> None:
    record = record_with(amount_due="210.00", issue_date="2020-10-07")
    data = build_zip({"bill.xml": sample(samples_dir, RIEPILOGO), "flow.jsonl": jsonl(record)})
    [bill] = read_flow(data, "flow.zip").bills

    assert bill.amount_due == Decimal("204.16")
    assert bill.issue_date == date(2020, 10, 6)
    warnings = [render(warning, "en") for warning in bill.warnings]
    assert warnings == [
        "The JSON Lines record flow.jsonl, line 1 gives amount due 210.00 for document GR20-900443E, but the "
        "FatturaPA file gives 204.16. The FatturaPA amount is kept. Check the two files.",
        "The JSON Lines record flow.jsonl, line 1 gives issue date 2020-10-07 for document GR20-900443E, but the "
        "FatturaPA file gives 2020-10-06. The FatturaPA date is kept. Check the two files.",
    ]
    for warning in bill.warnings:
        assert render(warning, "it") != render(warning, "en")


def test_empty_supply_fields_filled(samples_dir: Path) -> None:
    record = record_with(number="456", issue_date="2014-12-20", amount_due="2440.00")
    record["supply"] = {"service": "gas", "pdr": "00881234567890", "address": "Via Po 3, Torino"}
    record["document"]["period"] = {"from": "2014-10-01", "to": "2014-11-30"}
    record["consumption"] = {"unit": "Smc", "billed": "310"}
    data = build_zip({"lotto.xml": sample(samples_dir, FPR03), "flow.jsonl": jsonl(record)})
    first, second = read_flow(data, "flow.zip").bills

    assert first.details == {"costs_layout": "summary_2016"}
    assert first.pdr is None
    assert (second.service, second.pdr, second.supply_address) == ("gas", "00881234567890", "Via Po 3, Torino")
    assert (second.period_from, second.period_to) == (date(2014, 10, 1), date(2014, 11, 30))
    assert (second.consumption, second.consumption_unit) == (Decimal("310"), "Smc")
    assert second.amount_due == Decimal("2440.00")


def test_signed_bill_enriched(samples_dir: Path) -> None:
    record = record_with(number="123", issue_date="2014-12-18", amount_due="32.50")
    data = build_zip({"lotto.xml.p7m": sample(samples_dir, FPR03 + ".p7m"), "flow.jsonl": jsonl(record)})
    reading = read_flow(data, "flow.zip")

    assert [bill.document_number for bill in reading.bills] == ["123", "456"]
    assert reading.bills[0].details["enriched_from"] == {"file": "flow.jsonl", "line": 1}


def test_unmatched_record_is_own_bill(samples_dir: Path) -> None:
    data = build_zip({"bill.xml": sample(samples_dir, RIEPILOGO), "flow.jsonl": jsonl(record_with(number="X-1"))})
    reading = read_flow(data, "flow.zip")

    assert [(bill.document_number, bill.source_file) for bill in reading.bills] == [
        ("GR20-900443E", "bill.xml"), ("X-1", "flow.jsonl")
    ]
    assert reading.bills[0].details == {"costs_layout": "summary_2016"}


def test_second_record_for_bill_rejected(samples_dir: Path) -> None:
    data = build_zip({
        "bill.xml": sample(samples_dir, RIEPILOGO),
        "a.jsonl": jsonl(RECORD),
        "b.jsonl": jsonl(record_with(due_date="2020-12-01")),
    })
    reading = read_flow(data, "flow.zip")

    [bill] = reading.bills
    assert bill.details["enriched_from"] == {"file": "a.jsonl", "line": 1}
    [rejection] = reading.rejected
    assert (rejection.file, rejection.record, rejection.field) == ("b.jsonl", "line 1", "document.number")
    assert render(rejection.reason, "en") == (
        "b.jsonl, line 1: the FatturaPA bill GR20-900443E from bill.xml already has the details of a.jsonl, "
        "line 1. Send one record per bill."
    )


def test_same_number_other_year_chosen(samples_dir: Path) -> None:
    text = sample(samples_dir, RIEPILOGO)
    older = text.replace(b"<Data>2020-10-06</Data>", b"<Data>2019-10-06</Data>")
    assert older != text
    data = build_zip({"a.xml": older, "b.xml": text, "flow.jsonl": jsonl(RECORD)})
    reading = read_flow(data, "flow.zip")

    assert reading.rejected == []
    assert [(bill.year, "enriched_from" in bill.details) for bill in reading.bills] == [(2019, False), (2020, True)]


def test_ambiguous_match_rejected(samples_dir: Path) -> None:
    text = sample(samples_dir, RIEPILOGO)
    data = build_zip({"a.xml": text, "b.xml": text, "flow.jsonl": jsonl(RECORD)})
    reading = read_flow(data, "flow.zip")

    assert [bill.details for bill in reading.bills] == [{"costs_layout": "summary_2016"}] * 2
    [rejection] = reading.rejected
    assert "matches 2 FatturaPA bills of year 2020" in render(rejection.reason, "en")


def test_record_pdf_comes_first(samples_dir: Path) -> None:
    record = record_with(pdf="docs/GR20.pdf")
    data = build_zip({
        "bill.xml": sample(samples_dir, RIEPILOGO),
        "GR20-900443E.pdf": b"%PDF-1.4\n%by name\n",
        "docs/GR20.pdf": PDF,
        "flow.jsonl": jsonl(record),
    })
    reading = read_flow(data, "flow.zip")

    [bill] = reading.bills
    assert [(attachment.name, attachment.content) for attachment in bill.attachments] == [("GR20.pdf", PDF)]
    assert [item.file for item in reading.ignored] == ["GR20-900443E.pdf"]


def test_rejected_record_leaves_bill_alone(samples_dir: Path) -> None:
    record = record_with(amount_due="204,16")
    data = build_zip({"bill.xml": sample(samples_dir, RIEPILOGO), "flow.jsonl": jsonl(record)})
    reading = read_flow(data, "flow.zip")

    [bill] = reading.bills
    assert bill.details == {"costs_layout": "summary_2016"}
    assert [item.field for item in reading.rejected] == ["document.amount_due"]
