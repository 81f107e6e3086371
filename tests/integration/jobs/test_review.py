"""Review warnings after parsing: amount far from the previous bill, missing readings, two fiscal codes."""

from __future__ import annotations

import html
from typing import Any

from sqlalchemy import select

from bolletta.platform.db.models.tenant import Bill
from bolletta.platform.i18n.message import render
from bolletta.platform.jobs import review, states
from bolletta.platform.jobs.opening import open_job
from bolletta.platform.stack import EmbeddedStack
from tests.integration.flow_records import jsonl_lines, jsonl_record
from tests.integration.stack_support import StaffLogin, load_job, open_demo_job, wait_idle, zip_archive
from tests.integration.stack_support import signed_in_client as signed_in

FISCAL_CODE = "RSSMRA80A01H501U"
OTHER_FISCAL_CODE = "BNCLCU85M10F205Z"

EARLIER = (
    jsonl_record("R-1", "C-UP", amount="100.00", fiscal_code=FISCAL_CODE),
    jsonl_record("R-2", "C-DOWN", amount="90.00"),
    jsonl_record("R-3", "C-SAME", amount="50.00", service="gas"),
    jsonl_record("R-4", "C-TWO", fiscal_code=FISCAL_CODE),
)
LATER = (
    jsonl_record("R-11", "C-UP", amount="400.00", issue_date="2026-02-10", fiscal_code=FISCAL_CODE),
    jsonl_record("R-12", "C-DOWN", amount="20.00", issue_date="2026-02-10"),
    jsonl_record("R-13", "C-SAME", amount="120.00", issue_date="2026-02-10", service="gas"),
    jsonl_record("R-14", "C-TWO", issue_date="2026-02-10", fiscal_code=OTHER_FISCAL_CODE),
    jsonl_record("R-15", "C-NOREAD", issue_date="2026-02-10", readings=False),
    jsonl_record("R-16", "C-WATER", issue_date="2026-02-10", service="water", readings=False),
    jsonl_record("R-17", "C-NOUSE", issue_date="2026-02-10", readings=False, consumption="0"),
)


def _run(stack: EmbeddedStack, tenant: str, name: str, records: tuple[dict[str, Any], ...]) -> int:
    archive = zip_archive({f"{name}.jsonl": jsonl_lines(*records)})
    opened = open_job(stack.rt, tenant, archive, f"{name}.zip", source="api", opened_by="api:test")
    wait_idle(stack)
    job = load_job(stack, tenant, opened.job_id)
    assert job.state == states.TEST_SENT, job.report
    return job.id


def _review(stack: EmbeddedStack, tenant: str, job_id: int) -> dict[str, list[str]]:
    """The job's review entries as check → document numbers."""
    found: dict[str, list[str]] = {}
    for item in load_job(stack, tenant, job_id).report["review"]:
        found.setdefault(item["check"], []).append(item["document_number"])
    return found


def test_review_checks_against_earlier_job(stack: EmbeddedStack, tenant: str) -> None:
    earlier = _run(stack, tenant, "gennaio", EARLIER)
    later = _run(stack, tenant, "febbraio", LATER)

    assert _review(stack, tenant, earlier) == {}
    assert _review(stack, tenant, later) == {
        "amount_change": ["R-11", "R-12"],
        "missing_readings": ["R-15"],
        "fiscal_code_conflict": ["R-14"],
    }


def test_review_messages_in_italian(stack: EmbeddedStack, tenant: str) -> None:
    _run(stack, tenant, "gennaio", EARLIER)
    later = _run(stack, tenant, "febbraio", LATER)

    entries = {item["document_number"]: item for item in load_job(stack, tenant, later).report["review"]}
    assert render(entries["R-11"]["warning"], "it") == (
        "L'importo da pagare 400.00 è più di 3 volte quello della bolletta precedente del cliente, "
        "R-1 del 2026-01-10 (100.00)."
    )
    assert render(entries["R-12"]["warning"], "it").startswith("L'importo da pagare 20.00 è meno di un terzo")
    assert render(entries["R-15"]["warning"], "it") == (
        "La bolletta ha un consumo di 250 kWh ma nessuna lettura del contatore."
    )
    conflict = render(entries["R-14"]["warning"], "it")
    assert "C-TWO ha 2 codici fiscali diversi" in conflict
    assert "BNC••••••••••05Z" in conflict
    assert "RSS••••••••••01U" in conflict
    assert FISCAL_CODE not in conflict
    assert entries["R-14"]["value"] == "BNC••••••••••05Z, RSS••••••••••01U"


def test_review_warnings_on_bills_once(stack: EmbeddedStack, tenant: str) -> None:
    _run(stack, tenant, "gennaio", EARLIER)
    later = _run(stack, tenant, "febbraio", LATER)

    with stack.rt.db.tenant_session(tenant) as session:
        job = load_job(stack, tenant, later)
        review.review_job(session, session.merge(job))  # a second run, as a re-parse makes
        session.commit()
        bill = session.scalars(select(Bill).where(Bill.document_number == "R-11")).one()
    amount_warnings = [item for item in bill.warnings if "3 times" in item["msgid"]]
    assert len(amount_warnings) == 1


def test_fatturapa_bills_not_checked_for_readings(stack: EmbeddedStack, tenant: str) -> None:
    opened = open_demo_job(stack, tenant)
    wait_idle(stack)

    with stack.rt.db.tenant_session(tenant) as session:
        metered = session.scalars(
            select(Bill).where(Bill.job_id == opened.job_id, Bill.consumption.is_not(None),
                               Bill.service.in_(("electricity", "gas")))
        ).all()
    assert metered, "the demo flow should contain metered FatturaPA bills"
    assert all(not bill.details.get("readings") for bill in metered)
    assert "missing_readings" not in _review(stack, tenant, opened.job_id)


def test_job_page_lists_review_first(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    _run(stack, tenant, "gennaio", EARLIER)
    later = _run(stack, tenant, "febbraio", LATER)

    with signed_in(stack, operator) as client:
        page = html.unescape(client.get(f"/office/jobs/{later}").text)

    assert 'Avvisi da verificare prima del benestare <span class="badge" id="review-count">4</span>' in page
    review_at = page.index("Avvisi da verificare prima del benestare")
    assert review_at < page.index("/approve")
    assert "R-11: L'importo da pagare 400.00 è più di 3 volte" in page
    assert f'href="/office/jobs/{later}/report.csv"' in page
    assert "Scarica report" in page


def test_amount_change_picks_latest_earlier_bill(stack: EmbeddedStack, tenant: str) -> None:
    earlier = (
        jsonl_record("P-1", "C-PICK", amount="1000.00", issue_date="2026-01-05"),
        jsonl_record("P-2", "C-PICK", amount="300.00", issue_date="2026-01-20"),
        # Same issue date as P-2 and stored after it, so it is the previous bill of both later bills.
        jsonl_record("P-3", "C-PICK", amount="110.00", issue_date="2026-01-20"),
        jsonl_record("P-4", "C-PICK", amount="10.00", issue_date="2026-03-01"),
        jsonl_record("P-5", "C-PICK", amount="5.00", issue_date="2026-01-25", service="gas"),
    )
    later = (
        jsonl_record("P-10", "C-PICK", amount="1.00", issue_date="2026-02-01"),
        # P-10 is earlier but of the same job, so it is not the previous bill of P-11.
        jsonl_record("P-11", "C-PICK", amount="400.00", issue_date="2026-02-10"),
    )
    _run(stack, tenant, "gennaio", earlier)
    job_id = _run(stack, tenant, "febbraio", later)

    entries = {item["document_number"]: item for item in load_job(stack, tenant, job_id).report["review"]}
    assert sorted(entries) == ["P-10", "P-11"]
    assert "previous bill P-3 of 2026-01-20 (110.00)" in render(entries["P-10"]["warning"], "en")
    assert "previous bill P-3 of 2026-01-20 (110.00)" in render(entries["P-11"]["warning"], "en")
