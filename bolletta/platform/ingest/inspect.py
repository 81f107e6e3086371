"""A dry run of the flow reader: what an archive would import, as JSON lines, with nothing stored.

``bolletta flow inspect`` prints :attr:`FlowInspection.lines` one per line: first one object per
bill with the fields the smart bill shows, then one object per problem (``"problem"`` is
``archive_rejected``, ``rejected``, ``ignored`` or ``warning``), then ``{"summary": {...}}``. Amounts are
decimal strings exactly as read, dates ISO 8601, and messages are rendered in the language asked.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from bolletta.platform.i18n.message import Text, render
from bolletta.platform.ingest.archive import ArchiveLimits
from bolletta.platform.ingest.errors import ArchiveRejected
from bolletta.platform.ingest.reader import read_flow
from bolletta.platform.ingest.records import FlowReading, ParsedBill


class FlowInspection(msgspec.Struct, kw_only=True):
    """The JSON lines of an inspection, and how many files or records were rejected."""

    lines: list[dict[str, Any]]
    rejected: int


def inspect_flow(
    source: bytes | Path,
    filename: str,
    *,
    language: str = "en",
    limits: ArchiveLimits | None = None,
    series_pattern: str | re.Pattern[str] | None = None,
    customer_code_source: str = "fiscal_code",
) -> FlowInspection:
    """Read a flow as a job would, and describe each bill and each problem as a JSON object.

    A rejected archive gives one ``archive_rejected`` problem and no bills.

    Raises:
        ValueError: ``customer_code_source`` or ``series_pattern`` is not valid.
    """
    try:
        reading = read_flow(source, filename, limits, series_pattern=series_pattern,
                            customer_code_source=customer_code_source)
    except ArchiveRejected as exc:
        problem = _problem("archive_rejected", filename, exc.text, language)
        return FlowInspection(lines=[problem, _summary(FlowReading(), archive_rejected=True)], rejected=1)

    lines: list[dict[str, Any]] = [_bill_line(bill, reading, language) for bill in reading.bills]
    lines += [
        _problem("rejected", item.file, item.reason, language, record=item.record, field=item.field)
        for item in reading.rejected
    ]
    lines += [_problem("ignored", item.file, item.reason, language) for item in reading.ignored]
    lines += [_problem("warning", filename, warning, language) for warning in reading.warnings]
    lines.append(_summary(reading, archive_rejected=False))
    return FlowInspection(lines=lines, rejected=len(reading.rejected))


def _bill_line(bill: ParsedBill, reading: FlowReading, language: str) -> dict[str, Any]:
    contacts = [contact for contact in reading.contacts if contact.customer_code == bill.customer_code]
    return {
        "document_number": bill.document_number,
        "series": bill.series,
        "year": bill.year,
        "type": "credit_note" if bill.is_credit_note else "invoice",
        "document_type": bill.document_type,
        "file": bill.source_file,
        "body": bill.body_index,
        "issue_date": _iso(bill.issue_date),
        "due_date": _iso(bill.due_date),
        "currency": bill.currency,
        "amount_due": str(bill.amount_due),
        "total": _text(bill.total),
        "instalments": [
            {"amount": str(item.amount), "due_date": _iso(item.due_date), "method": item.method,
             "notice_code": item.notice_code}
            for item in bill.instalments
        ],
        "payment_method": bill.payment_method,
        "direct_debit": bill.direct_debit,
        "customer_code": bill.customer_code,
        "customer_name": bill.customer_name,
        "service": bill.service,
        "pod": bill.pod,
        "pdr": bill.pdr,
        "supply_address": bill.supply_address,
        "period": {"from": _iso(bill.period_from), "to": _iso(bill.period_to)},
        "consumption": {"value": _text(bill.consumption), "unit": bill.consumption_unit},
        "cost_categories": _cost_categories(bill),
        "has_pdf": bool(bill.attachments),
        "contacts": [{"channel": contact.channel, "source": contact.source} for contact in contacts],
        "details": sorted(bill.details),
        "warnings": [render(warning, language) for warning in bill.warnings],
    }


def _cost_categories(bill: ParsedBill) -> list[dict[str, str]]:
    """Return each cost category with the sum of its lines, in the order the categories first appear."""
    totals: dict[str, Decimal] = {}
    for cost in bill.costs:
        totals[cost.category] = totals.get(cost.category, Decimal(0)) + cost.amount
    return [{"category": category, "amount": str(amount)} for category, amount in totals.items()]


def _problem(
    kind: str, file: str, reason: Text, language: str, *, record: str | None = None, field: str | None = None
) -> dict[str, Any]:
    return {"problem": kind, "file": file, "record": record, "field": field, "reason": render(reason, language)}


def _summary(reading: FlowReading, *, archive_rejected: bool) -> dict[str, Any]:
    return {
        "summary": {
            "bills": len(reading.bills),
            "rejected": len(reading.rejected) + (1 if archive_rejected else 0),
            "ignored": len(reading.ignored),
            "contacts": len(reading.contacts),
            "archive_rejected": archive_rejected,
        }
    }


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
