"""Actors run twice, as at-least-once delivery allows, and still send and store everything once."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from bolletta.platform.db.models.tenant import Bill, Contact, Message, Ticket
from bolletta.platform.demo.flow import DemoFlow
from bolletta.platform.dispatch import sending, starting
from bolletta.platform.errors import InvalidTransition
from bolletta.platform.jobs import approval, parsing, states, test_batch
from bolletta.platform.stack import EmbeddedStack
from bolletta.platform.tickets.issuing import issue_ticket
from tests.integration.stack_support import (
    StaffLogin,
    broker_of,
    create_test_tenant,
    held_outbox,
    load_job,
    mails_to,
    new_slug,
    open_demo_job,
    wait_idle,
)


@pytest.fixture
def tenant(stack: EmbeddedStack) -> str:
    """A tenant with customer e-mail over SMTP, one bill per test batch and no staff mail."""
    return create_test_tenant(stack, new_slug("job"), notification_emails=[], test_batch_size=1)


def count(stack: EmbeddedStack, tenant: str, column: Any, *conditions: Any) -> int:
    with stack.rt.db.tenant_session(tenant) as session:
        return session.scalar(select(func.count(column)).where(*conditions)) or 0


def new_email_message(stack: EmbeddedStack, tenant: str, job_id: int, address: str) -> int:
    """Issue a ticket by e-mail for the job's first bill without queueing its message."""
    with stack.rt.db.tenant_session(tenant) as session:
        bill = session.scalars(select(Bill).where(Bill.job_id == job_id).order_by(Bill.id)).first()
        assert bill is not None
        message = issue_ticket(session, bill, channel="email", address=address, plugin="smtp",
                               validity=timedelta(days=15))
        assert message is not None
        session.commit()
        return message.id


def test_send_message_twice_sends_once(stack: EmbeddedStack, tenant: str, tested_job: int) -> None:
    address = f"cliente@{tenant}.example"
    message_id = new_email_message(stack, tenant, tested_job, address)

    first = sending.send_message(stack.rt, tenant, message_id)
    second = sending.send_message(stack.rt, tenant, message_id)

    assert first == "sent"
    assert second == "skipped"
    assert len(mails_to(stack, address)) == 1


def test_redelivered_send_actor_sends_once(stack: EmbeddedStack, tenant: str, tested_job: int) -> None:
    address = f"cliente@{tenant}.example"
    message_id = new_email_message(stack, tenant, tested_job, address)
    actor = broker_of(stack).get_actor("send_message")

    actor.send(tenant, message_id)
    actor.send(tenant, message_id)
    wait_idle(stack)

    assert len(mails_to(stack, address)) == 1
    with stack.rt.db.tenant_session(tenant) as session:
        message = session.get_one(Message, message_id)
    assert message.status == "sent"
    assert message.claimed_at is not None


def test_concurrent_sends_send_once(stack: EmbeddedStack, tenant: str, tested_job: int) -> None:
    address = f"cliente@{tenant}.example"
    message_id = new_email_message(stack, tenant, tested_job, address)

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(lambda _: sending.send_message(stack.rt, tenant, message_id), range(4)))

    assert sorted(outcomes) == ["sent", "skipped", "skipped", "skipped"]
    assert len(mails_to(stack, address)) == 1


def test_create_tickets_twice_issues_once(
    stack: EmbeddedStack, tenant: str, tested_job: int, operator: StaffLogin, demo_flow: DemoFlow
) -> None:
    approval.approve(stack.rt, tenant, tested_job, operator.staff)
    with held_outbox(stack):
        # The held create_tickets message runs a third time when the outbox is relayed.
        approval.start_dispatch(stack.rt, tenant, tested_job, operator.staff)
        first = starting.create_tickets(stack.rt, tenant, tested_job)
        second = starting.create_tickets(stack.rt, tenant, tested_job)
    wait_idle(stack)

    assert first["issued"] > 0
    assert second["issued"] == 0
    assert second["existing"] == first["issued"]
    customer_tickets = (Ticket.job_id == tested_job, Ticket.is_test.is_(False))
    assert count(stack, tenant, Ticket.id, *customer_tickets) == first["issued"]
    assert load_job(stack, tenant, tested_job).state == states.DISPATCHED

    for customer in demo_flow.customers:
        email_tickets = count(stack, tenant, Ticket.id, *customer_tickets, Ticket.address == customer.email)
        assert len(mails_to(stack, customer.email)) == email_tickets
    with stack.rt.db.tenant_session(tenant) as session:
        statuses = session.scalars(
            select(Message.status).join(Ticket, Ticket.id == Message.ticket_id).where(*customer_tickets)
        ).all()
    assert len(statuses) == first["issued"]
    assert set(statuses) <= {"sent", "delivered"}


def raise_once(function: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``function`` so its first call raises, as a worker crash at that point would."""
    calls = 0

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("worker crashed here on purpose")
        return function(*args, **kwargs)

    return wrapper


def test_parse_job_twice_stores_bills_once(stack: EmbeddedStack, tenant: str, demo_flow: DemoFlow) -> None:
    bills = len(demo_flow.document_numbers)
    with held_outbox(stack):
        job_id = open_demo_job(stack, tenant, flow=demo_flow).job_id
        parsing.parse_job(stack.rt, tenant, job_id)
        contacts = count(stack, tenant, Contact.id)
        parsing.parse_job(stack.rt, tenant, job_id)

        assert count(stack, tenant, Bill.id) == bills
        with stack.rt.db.tenant_session(tenant) as session:
            # A re-run moves the job back to parsing and parses the stored archive again.
            states.move(session, load_job(stack, tenant, job_id), states.PARSING, actor="test:re-run")
            session.commit()
        parsing.parse_job(stack.rt, tenant, job_id)
    wait_idle(stack)

    job = load_job(stack, tenant, job_id)
    assert count(stack, tenant, Bill.id) == bills
    assert count(stack, tenant, Contact.id) == contacts
    assert job.report["accepted"] == bills
    assert job.report["duplicates"] == []
    assert job.state == states.TEST_SENT
    assert count(stack, tenant, Ticket.id, Ticket.is_test.is_(True)) == 2


def test_parse_after_crash_stores_bills_once(
    stack: EmbeddedStack, tenant: str, demo_flow: DemoFlow, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parsing, "_store_contacts", raise_once(parsing._store_contacts))
    with held_outbox(stack):
        job_id = open_demo_job(stack, tenant, flow=demo_flow).job_id
        with pytest.raises(RuntimeError, match="on purpose"):
            parsing.parse_job(stack.rt, tenant, job_id)

        assert load_job(stack, tenant, job_id).state == states.PARSING
        assert count(stack, tenant, Bill.id) == 0

        parsing.parse_job(stack.rt, tenant, job_id)
    wait_idle(stack)

    assert count(stack, tenant, Bill.id) == len(demo_flow.document_numbers)
    assert load_job(stack, tenant, job_id).state == states.TEST_SENT


def test_concurrent_test_batches_send_once(stack: EmbeddedStack, tenant: str, demo_flow: DemoFlow) -> None:
    with held_outbox(stack):
        job_id = open_demo_job(stack, tenant, flow=demo_flow).job_id
        parsing.parse_job(stack.rt, tenant, job_id)
        with ThreadPoolExecutor(max_workers=3) as pool:
            queued = list(pool.map(lambda _: test_batch.send_test_batch(stack.rt, tenant, job_id), range(3)))
    wait_idle(stack)

    assert sorted(queued) == [0, 0, 2]
    assert count(stack, tenant, Ticket.id, Ticket.is_test.is_(True)) == 2
    assert load_job(stack, tenant, job_id).test_round == 1
    assert load_job(stack, tenant, job_id).state == states.TEST_SENT


def parse_concurrently(stack: EmbeddedStack, tenant: str, job_id: int, deliveries: int = 3) -> list[str]:
    """Run ``parse_job`` in parallel threads; return ``ok`` or the exception raised, per thread."""
    def deliver(_: int) -> str:
        try:
            parsing.parse_job(stack.rt, tenant, job_id)
        except (InvalidTransition, SQLAlchemyError) as exc:
            return f"{type(exc).__name__}: {exc}"
        return "ok"

    with ThreadPoolExecutor(max_workers=deliveries) as pool:
        return list(pool.map(deliver, range(deliveries)))


def test_concurrent_parse_deliveries_succeed(stack: EmbeddedStack, tenant: str, demo_flow: DemoFlow) -> None:
    with held_outbox(stack):
        job_id = open_demo_job(stack, tenant, flow=demo_flow).job_id
        outcomes = parse_concurrently(stack, tenant, job_id)
    wait_idle(stack)
    job = load_job(stack, tenant, job_id)

    assert outcomes == ["ok", "ok", "ok"]
    assert count(stack, tenant, Bill.id) == len(demo_flow.document_numbers)
    assert job.state == states.TEST_SENT
    assert job.report["accepted"] == len(demo_flow.document_numbers)


def test_concurrent_parses_after_crash_succeed(
    stack: EmbeddedStack, tenant: str, demo_flow: DemoFlow, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parsing, "_store_contacts", raise_once(parsing._store_contacts))
    with held_outbox(stack):
        job_id = open_demo_job(stack, tenant, flow=demo_flow).job_id
        with pytest.raises(RuntimeError, match="on purpose"):
            parsing.parse_job(stack.rt, tenant, job_id)
        assert load_job(stack, tenant, job_id).state == states.PARSING

        outcomes = parse_concurrently(stack, tenant, job_id)
    wait_idle(stack)
    job = load_job(stack, tenant, job_id)

    assert outcomes == ["ok", "ok", "ok"]
    assert count(stack, tenant, Bill.id) == len(demo_flow.document_numbers)
    assert job.state == states.TEST_SENT
    assert job.report["accepted"] == len(demo_flow.document_numbers)


def test_concurrent_create_tickets_issue_once(
    stack: EmbeddedStack, tenant: str, tested_job: int, operator: StaffLogin
) -> None:
    approval.approve(stack.rt, tenant, tested_job, operator.staff)
    with held_outbox(stack):
        approval.start_dispatch(stack.rt, tenant, tested_job, operator.staff)
        with ThreadPoolExecutor(max_workers=3) as pool:
            runs = list(pool.map(lambda _: starting.create_tickets(stack.rt, tenant, tested_job), range(3)))
    wait_idle(stack)

    issued = sorted(run["issued"] for run in runs)
    assert issued[:2] == [0, 0]
    assert issued[2] > 0
    customer_tickets = (Ticket.job_id == tested_job, Ticket.is_test.is_(False))
    assert count(stack, tenant, Ticket.id, *customer_tickets) == issued[2]
    assert load_job(stack, tenant, tested_job).state == states.DISPATCHED
