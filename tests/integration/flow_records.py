"""JSON Lines records with the few fields the review and contacts tests vary."""

from __future__ import annotations

import json
from typing import Any


def jsonl_record(
    number: str, customer_code: str, *, fiscal_code: str | None = None, amount: str = "100.00",
    issue_date: str = "2026-01-10", service: str = "electricity", consumption: str | None = "250",
    readings: bool = True, contacts: list[dict[str, str]] | None = None, name: str = "Cliente Prova",
) -> dict[str, Any]:
    """A valid bill record; ``readings`` adds one actual meter reading."""
    customer: dict[str, Any] = {"code": customer_code, "name": name}
    if fiscal_code is not None:
        customer["fiscal_code"] = fiscal_code
    if contacts is not None:
        customer["contacts"] = contacts
    record: dict[str, Any] = {
        "format": "bolletta-smart/1",
        "document": {"number": number, "issue_date": issue_date, "due_date": "2031-01-31", "amount_due": amount},
        "customer": customer,
        "supply": {"service": service},
    }
    if consumption is not None:
        record["consumption"] = {"unit": "Smc" if service == "gas" else "kWh", "billed": consumption}
    if readings:
        record["readings"] = [{"date": "2026-01-01", "type": "actual", "value": "12345"}]
    return record


def jsonl_lines(*records: dict[str, Any]) -> bytes:
    """The records as a JSON Lines file."""
    return "".join(json.dumps(record) + "\n" for record in records).encode()
