"""The test batch: real, working links to the tenant's test recipients, marked as test."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bolletta.platform.db.models.tenant import Bill, JobTransition, Message, Ticket
from bolletta.platform.demo.flow import DemoFlow
from bolletta.platform.jobs import notes, states
from bolletta.platform.jobs.notes import read_note, render_note
from bolletta.platform.jobs.test_batch import send_test_batch
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import (
    LINK_PATTERN,
    create_test_tenant,
    mails_to,
    new_slug,
    run_to_test_sent,
    stored_texts,
    wait_idle,
    web_client,
)

TEST_BATCH_SIZE = 5
"""Bills in a test batch with the default tenant settings."""
RECIPIENTS = 2
"""Test recipients of the tenants these tests create: one e-mail address and one mobile."""


@pytest.fixture(scope="module")
def tenant(stack: EmbeddedStack) -> str:
    """One tenant for the whole module: these tests only read the job's test batch."""
    return create_test_tenant(stack, new_slug("job"))


@pytest.fixture(scope="module")
def tested_job(stack: EmbeddedStack, tenant: str, demo_flow: DemoFlow) -> int:
    return run_to_test_sent(stack, tenant, demo_flow)


def test_tickets_are_test_tickets(stack: EmbeddedStack, tenant: str, tested_job: int) -> None:
    with stack.rt.db.tenant_session(tenant) as session:
        tickets = session.scalars(select(Ticket).where(Ticket.job_id == tested_job)).all()
        statuses = {
            ticket.channel: session.scalars(select(Message.status).where(Message.ticket_id == ticket.id)).all()
            for ticket in tickets
        }

    assert len(tickets) == TEST_BATCH_SIZE * RECIPIENTS
    assert all(ticket.is_test for ticket in tickets)
    assert {ticket.test_round for ticket in tickets} == {1}
    assert {(ticket.channel, ticket.address) for ticket in tickets} == {
        ("email", f"collaudo@{tenant}.example"), ("sms", "+393330000001"),
    }
    assert all(ticket.expires_at - ticket.created_at == timedelta(hours=48) for ticket in tickets)
    assert statuses == {"email": ["sent"], "sms": ["delivered"]}


def test_transition_records_test_batch(stack: EmbeddedStack, tenant: str, tested_job: int) -> None:
    with stack.rt.db.tenant_session(tenant) as session:
        transition = session.scalars(
            select(JobTransition).where(JobTransition.job_id == tested_job, JobTransition.to_state == states.TEST_SENT)
        ).one()
    assert transition.from_state == states.PARSED
    assert transition.actor == "system:test-batch"
    assert read_note(transition.note) == notes.sent_to_test_recipients(TEST_BATCH_SIZE * RECIPIENTS, TEST_BATCH_SIZE)
    assert render_note(transition.note, "en") == (f"test messages: {TEST_BATCH_SIZE * RECIPIENTS}, "
                                                 f"bills in the sample: {TEST_BATCH_SIZE}")


def test_email_links_open_the_bill(stack: EmbeddedStack, tenant: str, tested_job: int) -> None:
    mails = mails_to(stack, f"collaudo@{tenant}.example")
    assert len(mails) == TEST_BATCH_SIZE
    with stack.rt.db.tenant_session(tenant) as session:
        bills = {bill.public_id: bill.document_number
                 for bill in session.scalars(select(Bill).where(Bill.job_id == tested_job))}

    for mail in mails:
        assert str(mail.message["Subject"]).strip().startswith("[TEST]")
        body = mail.message.get_body(preferencelist=("plain",))
        assert body is not None
        links = LINK_PATTERN.findall(body.get_content())
        assert len(links) == 1
        slug, token = links[0]
        assert slug == tenant
        with web_client(stack) as client:
            opened = client.get(f"/c/{slug}/t/{token}")
            assert opened.status_code == 303
            location = opened.headers["location"]
            public_id = location.removeprefix(f"/c/{slug}/b/").removesuffix("/sommario")
            assert public_id in bills
            summary = client.get(location)
        assert summary.status_code == 200
        assert bills[public_id] in summary.text


def test_sms_texts_are_marked_test(stack: EmbeddedStack, tenant: str, tested_job: int) -> None:
    texts = stored_texts(stack, tenant)

    assert len(texts) == TEST_BATCH_SIZE
    for text in texts:
        assert text.startswith("[TEST]")
        assert [slug for slug, _token in LINK_PATTERN.findall(text)] == [tenant]


def test_test_batch_not_sent_twice(stack: EmbeddedStack, tenant: str, tested_job: int) -> None:
    queued = send_test_batch(stack.rt, tenant, tested_job)
    wait_idle(stack)

    assert queued == 0
    with stack.rt.db.tenant_session(tenant) as session:
        assert len(session.scalars(select(Ticket.id)).all()) == TEST_BATCH_SIZE * RECIPIENTS
    assert len(mails_to(stack, f"collaudo@{tenant}.example")) == TEST_BATCH_SIZE
