"""Enrichment of FatturaPA bills with the JSON Lines records of the same archive.

FatturaPA carries no readings, time bands, consumption history, previous payments status or
contacts. A JSON Lines record with the same document number as a FatturaPA bill of the same archive
adds them to that bill instead of becoming a second bill. The FatturaPA file is the legal document,
so its amounts, dates, customer and cost lines are kept. The record only fills what the FatturaPA
bill lacks:

- ``details`` keys (and, inside an object, sub-keys) the FatturaPA bill does not have;
- POD, PDR, supply address, customer address, billing period and consumption when they are empty;
- the service, which the record states and the FatturaPA reader only infers from the supply point
  or the units billed;
- the record's contacts, copied to the FatturaPA bill's customer code;
- the record's PDF, which comes first for the bill.

A different amount due or issue date in the record is kept out and reported as a warning on the bill.
"""

from __future__ import annotations

from typing import Any

import msgspec

from bolletta.platform.i18n.message import T_
from bolletta.platform.ingest.jsonl import JsonlReading, PdfReference
from bolletta.platform.ingest.records import ParsedBill, ParsedContact, Rejection

_FILLED_WHEN_EMPTY = ("pod", "pdr", "supply_address", "customer_address", "period_from", "period_to")


class EnrichedFlow(msgspec.Struct, kw_only=True):
    """The JSON Lines bills that stand alone, and what enrichment added or rejected."""

    bills: list[ParsedBill] = []
    """Records that matched no FatturaPA bill, to add to the flow's bills."""
    contacts: list[ParsedContact] = []
    """Every record contact, plus a copy under the customer code of each enriched FatturaPA bill."""
    rejected: list[Rejection] = []
    pdf_references: list[PdfReference] = []
    """PDF paths of the records, pointing at the bill that gets the PDF (the enriched one when merged)."""


def enrich_bills(fatturapa_bills: list[ParsedBill], flows: list[JsonlReading]) -> EnrichedFlow:
    """Merge each JSON Lines bill into the FatturaPA bill with its document number, or keep it apart.

    When several FatturaPA bills share the number, the one of the same year is chosen. A record that
    still matches several is rejected, and so is a record for a bill that an earlier record enriched.
    ``fatturapa_bills`` are changed in place.
    """
    by_number: dict[str, list[ParsedBill]] = {}
    for bill in fatturapa_bills:
        by_number.setdefault(bill.document_number, []).append(bill)

    result = EnrichedFlow()
    enriched_by: dict[int, tuple[str, int]] = {}
    for flow in flows:
        result.rejected.extend(flow.rejected)
        result.contacts.extend(flow.contacts)
        targets: dict[int, ParsedBill] = {}
        for record_bill in flow.bills:
            line = record_bill.body_index
            candidates = by_number.get(record_bill.document_number, [])
            if len(candidates) > 1:
                candidates = [bill for bill in candidates if bill.year == record_bill.year]
            if not candidates:
                result.bills.append(record_bill)
                continue
            if len(candidates) > 1:
                result.rejected.append(_ambiguous(record_bill, len(candidates)))
                continue
            target = candidates[0]
            if id(target) in enriched_by:
                result.rejected.append(_already_enriched(record_bill, target, *enriched_by[id(target)]))
                continue
            enriched_by[id(target)] = (record_bill.source_file, line)
            _merge(target, record_bill)
            targets[id(record_bill)] = target
            result.contacts.extend(_contacts_for(target, record_bill, flow.contacts))

        for reference in flow.pdf_references:
            if id(reference.bill) in targets:
                reference = PdfReference(bill=targets[id(reference.bill)], path=reference.path, line=reference.line)
            elif not any(reference.bill is bill for bill in result.bills):
                continue  # the record was rejected
            result.pdf_references.append(reference)
    return result


def _merge(target: ParsedBill, record: ParsedBill) -> None:
    # NOTE: the FatturaPA bill keeps its own costs_layout, but a receipt_2025 record still adds its
    # receipt_costs to a summary_2016 bill, so the two keys can disagree.
    target.details = _fill(target.details, record.details)
    target.details["enriched_from"] = {"file": record.source_file, "line": record.body_index}
    for name in _FILLED_WHEN_EMPTY:
        if getattr(target, name) is None:
            setattr(target, name, getattr(record, name))
    if target.consumption is None and record.consumption is not None:
        target.consumption = record.consumption
        target.consumption_unit = record.consumption_unit
    target.service = record.service
    target.warnings = [*target.warnings, *record.warnings]

    if record.amount_due != target.amount_due:
        target.warnings = [*target.warnings, T_(
            "The JSON Lines record {file}, line {line} gives amount due {flow_value} for document {number}, but "
            "the FatturaPA file gives {value}. The FatturaPA amount is kept. Check the two files.",
            file=record.source_file, line=record.body_index, number=target.document_number,
            flow_value=str(record.amount_due), value=str(target.amount_due),
        )]
    if record.issue_date != target.issue_date:
        target.warnings = [*target.warnings, T_(
            "The JSON Lines record {file}, line {line} gives issue date {flow_value} for document {number}, but "
            "the FatturaPA file gives {value}. The FatturaPA date is kept. Check the two files.",
            file=record.source_file, line=record.body_index, number=target.document_number,
            flow_value=record.issue_date.isoformat(), value=target.issue_date.isoformat(),
        )]


def _fill(current: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Return ``current`` with the keys of ``extra`` it lacks, merging objects present in both."""
    merged = dict(current)
    for key, value in extra.items():
        if key not in merged:
            merged[key] = value
        elif isinstance(merged[key], dict) and isinstance(value, dict):
            merged[key] = _fill(merged[key], value)
    return merged


def _contacts_for(target: ParsedBill, record: ParsedBill, contacts: list[ParsedContact]) -> list[ParsedContact]:
    """Copy the record's contacts under the FatturaPA bill's customer code, when the codes differ."""
    if target.customer_code == record.customer_code:
        return []
    return [
        msgspec.structs.replace(contact, customer_code=target.customer_code)
        for contact in contacts
        if contact.row == record.body_index and contact.customer_code == record.customer_code
    ]


def _ambiguous(record: ParsedBill, count: int) -> Rejection:
    return Rejection(
        file=record.source_file,
        record=f"line {record.body_index}",
        field="document.number",
        reason=T_(
            "{file}, line {line}: document {number} matches {count} FatturaPA bills of year {year} in this "
            "archive, so the record cannot tell which one to add its details to. Give each bill its own number.",
            file=record.source_file, line=record.body_index, number=record.document_number, count=count,
            year=record.year,
        ),
    )


def _already_enriched(record: ParsedBill, target: ParsedBill, first_file: str, first_line: int) -> Rejection:
    return Rejection(
        file=record.source_file,
        record=f"line {record.body_index}",
        field="document.number",
        reason=T_(
            "{file}, line {line}: the FatturaPA bill {number} from {target_file} already has the details of "
            "{first_file}, line {first_line}. Send one record per bill.",
            file=record.source_file, line=record.body_index, number=target.document_number,
            target_file=target.source_file, first_file=first_file, first_line=first_line,
        ),
    )
