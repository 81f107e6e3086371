"""Assertions of every figure of the hand-computed dataset, shared by the SQLite and PostgreSQL tests."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Message, Payment, Ticket
from bolletta.platform.stats import figures as stats
from bolletta.platform.stats import rollup
from tests.integration.stats import dataset
from tests.integration.stats.dataset import EXPECTED_2025


def _assert_counts(counts: rollup.Counts, expected: dict[str, int], label: str) -> None:
    actual = {name: getattr(counts, name) for name in expected}
    assert actual == expected, label


def check_year(session: Session) -> None:
    """Every figure of 2025, the month table, trends, jobs and groupings."""
    page = stats.year_page(session, 2025)
    figures = page.figures

    _assert_counts(figures.total, EXPECTED_2025["total"], "total")
    for channel in ("sms", "email", "whatsapp"):
        _assert_counts(figures.channel(channel), EXPECTED_2025[channel], channel)
        assert stats.format_percent(figures.share(channel)) == EXPECTED_2025["shares"][channel], channel
        assert stats.format_percent(stats.viewed_rate(figures.channel(channel))) == \
            EXPECTED_2025["viewed_rate"][channel], channel
        assert stats.format_percent(stats.paid_rate(figures.channel(channel))) == \
            EXPECTED_2025["paid_rate"][channel], channel
    assert stats.format_percent(stats.errors_rate(figures.total)) == EXPECTED_2025["errors_share"]
    assert stats.format_percent(stats.viewed_rate(figures.total)) == EXPECTED_2025["viewed_rate"]["total"]
    assert stats.format_percent(stats.paid_rate(figures.total)) == EXPECTED_2025["paid_rate"]["total"]
    assert figures.shown_channels == ["sms", "email", "whatsapp"]

    sms = figures.channel("sms")
    for state, (count, share) in EXPECTED_2025["sms_states"].items():
        value = getattr(sms, state)
        assert (str(value), stats.format_percent(stats.percent(value, sms.tickets))) == (count, share), state
    assert sms.delivered + sms.errors + sms.timeouts + sms.pending == sms.tickets
    assert figures.best("viewed") == "sms"
    assert figures.best("paid") == "sms"

    months = {row.first: row for row in page.periods}
    assert len(page.periods) == 12
    for month, expected in EXPECTED_2025["months"].items():
        row = months[month].figures
        assert row.total.tickets == expected["tickets"], month
        assert row.total.errors == expected["errors"], month
        assert row.total.viewed == expected["viewed"], month
        assert row.total.viewed_payable == expected["viewed_payable"], month
        assert row.total.paid == expected["paid"], month
        assert row.channel("sms").tickets == expected["sms"], month
        assert row.channel("email").tickets == expected["email"], month
        assert stats.format_percent(stats.viewed_rate(row.total)) == expected["viewed_rate"], month
        assert stats.format_percent(stats.paid_rate(row.total)) == expected["paid_rate"], month
    empty = months[4].figures.total
    assert empty.tickets == 0
    assert stats.format_percent(stats.viewed_rate(empty)) == "–"
    assert stats.format_percent(stats.paid_rate(empty)) == "–"
    for month, (viewed_trend, paid_trend) in EXPECTED_2025["trends"].items():
        assert (months[month].viewed_trend, months[month].paid_trend) == (viewed_trend, paid_trend), month

    assert {row.filename: row.figures.total.tickets for row in page.jobs} == EXPECTED_2025["jobs"]

    quarters = stats.year_page(session, 2025, group=3).periods
    assert [row.figures.total.tickets for row in quarters] == [15, 0, 0, 0]
    bimesters = stats.year_page(session, 2025, group=2).periods
    assert [(row.first, row.last, row.figures.total.tickets) for row in bimesters][:2] == [(1, 2, 14), (3, 4, 1)]

    assert stats.year_page(session, 2024).figures.total.tickets == 1
    assert stats.year_page(session, 2023).figures.total.tickets == 0


def check_job(session: Session, data: dataset.Dataset) -> None:
    """One job's figures: job 2 has one ticket in each of February and March."""
    page = stats.year_page(session, 2025, job_id=data.job2)
    assert page.figures.total.tickets == 3
    assert page.figures.total.viewed_payable == 2
    assert page.figures.total.paid == 0
    assert page.jobs == []


def check_incremental_refresh(session: Session, data: dataset.Dataset) -> None:
    """A payment and a new ticket after the first refresh change only their days, and are counted."""
    now = clock.now()
    session.add(Payment(order_id="late-payment", bill_id=data.bill13, gateway="sandbox", status="completed",
                        amount=1, currency="EUR", created_at=now, updated_at=now, completed_at=now))
    ticket8 = session.get(Ticket, data.ticket8)
    assert ticket8 is not None
    late = Ticket(bill_id=ticket8.bill_id, job_id=data.job2, channel="email", address="nuovo@example.it",
                  created_at=datetime(2025, 6, 15, 8, 0, tzinfo=UTC), expires_at=now)
    session.add(late)
    session.flush()
    session.add(Message(ticket_id=late.id, plugin="outbox", status="sent", idempotency_key="late-message",
                        created_at=now, updated_at=now))
    session.commit()

    rebuilt = rollup.refresh(session)

    assert rebuilt == 2  # 1 February (bill 13's ticket) and 15 June (the new ticket)
    page = stats.year_page(session, 2025)
    assert page.figures.total.tickets == 16
    assert page.figures.total.paid == 3
    assert {row.first: row.figures.total.paid for row in page.periods}[2] == 2
    assert {row.first: row.figures.total.tickets for row in page.periods}[6] == 1
