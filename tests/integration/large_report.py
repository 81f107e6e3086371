"""A job report with thousands of problems, built in the database in well under a second.

Parsing a flow of thousands of bad records takes much longer, and the pages and API under test only
read ``Job.report``, so the tests store the report in the shape the parser and the review checks write.
"""

from __future__ import annotations

from typing import Any

from bolletta.platform.i18n.message import T_, to_json
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stats import dataset

REJECTED = 3000
REVIEW_CHECKS = {"amount_change": 1500, "missing_readings": 900, "fiscal_code_conflict": 100}
WARNINGS = 1200
WITHOUT_CONTACT = 250


def rejected_reason(record: int) -> str:
    """The reason of rejected record ``record``, a plain string as older reports stored them."""
    return f"flusso.jsonl, line {record}: the amount_due is missing. Add it to the record."


def large_report() -> dict[str, Any]:
    """Return a report with :data:`REJECTED` rejected records, review warnings of every check, and more."""
    review = []
    for check, count in REVIEW_CHECKS.items():
        for _ in range(count):
            number = len(review) + 1
            review.append({
                "check": check, "bill_id": number, "document_number": f"R-{number}", "file": "flusso.jsonl",
                "record": str(number), "field": "amount_due", "value": "400.00",
                "warning": to_json(T_("Check the bill before approval.")),
                "fix": to_json(T_("Check the bill before approval.")),
            })
    return {
        "accepted": 0,
        "rejected": [{"file": "flusso.jsonl", "record": record, "field": "amount_due",
                      "reason": rejected_reason(record)} for record in range(1, REJECTED + 1)],
        "duplicates": [],
        "ignored": [],
        "warnings": [f"W-{number}: the currency is missing; the amounts are taken as EUR."
                     for number in range(1, WARNINGS + 1)],
        "without_contact": [f"C-{number}" for number in range(1, WITHOUT_CONTACT + 1)],
        "contacts": 0,
        "review": review,
    }


def total_problems() -> int:
    """Problem rows of :func:`large_report` in the CSV report and the API."""
    return REJECTED + sum(REVIEW_CHECKS.values()) + WARNINGS + WITHOUT_CONTACT


def add_large_job(stack: EmbeddedStack, tenant: str, state: str) -> int:
    """Store a job in ``state`` with :func:`large_report` and return its id."""
    with stack.rt.db.tenant_session(tenant) as session:
        job = dataset.add_job(session, f"large-{state}.zip", "2025-01-09 08:00")
        job.state = state
        job.report = large_report()
        session.commit()
        return job.id
