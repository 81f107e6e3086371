"""Channel choice and fallback, suppression, quiet hours, pause and resume, live progress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Bill, Job, StoredMessage, Ticket
from bolletta.platform.dispatch import control, starting, suppression, sweeper
from bolletta.platform.stack import EmbeddedStack
from bolletta.tenants.config import QuietHours
from tests.fakes.skebby import FakeSkebby
from tests.integration.dispatch.support import (
    ADMIN,
    Customer,
    job_state,
    later,
    make_job,
    message_rows,
    phone,
    start,
    status_counts,
)
from tests.integration.stack_support import create_test_tenant, held_outbox, new_slug, wait_idle

OUTBOX = {"sms": "outbox", "email": "outbox", "whatsapp": "outbox"}


def priority_tenant(stack: EmbeddedStack, fake: FakeSkebby, **changes: Any) -> str:
    return create_test_tenant(
        stack, new_slug("or"), notification_emails=[], channel_mode="priority",
        channel_priority=["sms", "email"], fallback_delay_minutes=60,
        channel_plugins={"sms": "skebby", "email": "outbox", "whatsapp": "outbox"},
        enabled_channels=["skebby", "outbox"], channel_settings={"skebby": fake.settings()}, **changes,
    )


def tickets_by_channel(stack: EmbeddedStack, tenant: str, job_id: int) -> dict[str, list[Ticket]]:
    result: dict[str, list[Ticket]] = {}
    for ticket, _ in message_rows(stack.rt, tenant, job_id):
        result.setdefault(ticket.channel, []).append(ticket)
    return result


def test_refused_contact_falls_back_after_the_delay_unless_viewed_or_paid(
    stack: EmbeddedStack, skebby: FakeSkebby
) -> None:
    tenant = priority_tenant(stack, skebby)
    customers = [Customer(contacts=[("sms", "+39abc"), ("email", f"c{n}@example.org")]) for n in range(3)]
    customers.append(Customer(contacts=[("sms", phone(9)), ("email", "ok@example.org")]))
    job_id = make_job(stack.rt, tenant, customers)
    start(stack.rt, tenant, job_id)
    wait_idle(stack)
    assert status_counts(stack.rt, tenant, job_id) == {"rejected": 3, "sent": 1}
    assert "email" not in tickets_by_channel(stack, tenant, job_id)

    with stack.rt.db.tenant_session(tenant) as session:
        bills = session.scalars(select(Bill).where(Bill.job_id == job_id).order_by(Bill.id)).all()
        session.execute(update(Bill).where(Bill.id == bills[1].id).values(paid_at=clock.now()))
        session.execute(update(Ticket).where(Ticket.bill_id == bills[2].id).values(first_viewed_at=clock.now()))
        session.commit()

    with clock.use_clock(later(minutes=30)):
        sweeper.sweep(stack.rt, tenant)
    wait_idle(stack)
    assert "email" not in tickets_by_channel(stack, tenant, job_id)

    with clock.use_clock(later(minutes=61)):
        sweeper.sweep(stack.rt, tenant)
        wait_idle(stack)
        sweeper.sweep(stack.rt, tenant)  # a second sweep issues nothing more
        wait_idle(stack)
    email = tickets_by_channel(stack, tenant, job_id)["email"]
    assert [ticket.address for ticket in email] == ["c0@example.org"]
    assert email[0].origin == "fallback"
    assert email[0].previous_ticket_id is not None
    assert status_counts(stack.rt, tenant, job_id) == {"rejected": 3, "sent": 1, "delivered": 1}


def test_suppressed_contacts_are_skipped_reported_and_fall_back(stack: EmbeddedStack, skebby: FakeSkebby) -> None:
    tenant = priority_tenant(stack, skebby)
    with stack.rt.db.tenant_session(tenant) as session:
        suppression.suppress(session, "sms", phone(1), reason="opt_out", source="test")
        session.commit()
    job_id = make_job(stack.rt, tenant, [
        Customer(contacts=[("sms", phone(0)), ("email", "a@example.org")]),
        Customer(contacts=[("sms", phone(1)), ("email", "b@example.org")]),
    ])
    start(stack.rt, tenant, job_id)
    wait_idle(stack)

    channels = {ticket.address: ticket.channel for ticket, _ in message_rows(stack.rt, tenant, job_id)}
    assert channels == {phone(0): "sms", "b@example.org": "email"}
    assert phone(1) not in {order.recipient for order in skebby.orders.values()}
    with stack.rt.db.tenant_session(tenant) as session:
        report = session.get_one(Job, job_id).report
    assert report["dispatch"]["suppressed"] == 1


def test_sms_due_in_quiet_hours_waits_until_morning(stack: EmbeddedStack) -> None:
    tenant = create_test_tenant(stack, new_slug("qh"), notification_emails=[], quiet_hours=QuietHours(),
                                channel_plugins=OUTBOX)
    night = datetime(2026, 12, 4, 21, 30, tzinfo=UTC)  # 22:30 in Rome
    job_id = make_job(stack.rt, tenant, [Customer(contacts=[("sms", phone(1)), ("email", "x@example.org")])])
    with clock.use_clock(lambda: night):
        start(stack.rt, tenant, job_id)
        wait_idle(stack)
        assert status_counts(stack.rt, tenant, job_id) == {"created": 1, "delivered": 1}
        sms = next(message for ticket, message in message_rows(stack.rt, tenant, job_id) if ticket.channel == "sms")
        assert clock.as_utc(sms.not_before) == datetime(2026, 12, 5, 7, 0, tzinfo=UTC)
        assert job_state(stack.rt, tenant, job_id) == "dispatching"

    with clock.use_clock(lambda: datetime(2026, 12, 5, 6, 59, tzinfo=UTC)):
        sweeper.sweep(stack.rt, tenant)
        wait_idle(stack)
        assert status_counts(stack.rt, tenant, job_id) == {"created": 1, "delivered": 1}
    with clock.use_clock(lambda: datetime(2026, 12, 5, 7, 1, tzinfo=UTC)):
        sweeper.sweep(stack.rt, tenant)
        wait_idle(stack)
        assert status_counts(stack.rt, tenant, job_id) == {"delivered": 2}
        assert job_state(stack.rt, tenant, job_id) == "dispatched"


def test_pause_holds_messages_and_resume_sends_them(stack: EmbeddedStack) -> None:
    tenant = create_test_tenant(stack, new_slug("pa"), notification_emails=[], channel_plugins=OUTBOX)
    job_id = make_job(stack.rt, tenant, [Customer(contacts=[("sms", phone(n))]) for n in range(6)])
    with held_outbox(stack):
        start(stack.rt, tenant, job_id)
        control.pause(stack.rt, tenant, job_id, ADMIN)
    wait_idle(stack)
    paused = control.progress(stack.rt, tenant, job_id)
    assert (paused.state, paused.total, paused.remaining, paused.sent) == ("paused", 6, 6, 0)

    queued = control.resume(stack.rt, tenant, job_id, ADMIN)
    wait_idle(stack)
    done = control.progress(stack.rt, tenant, job_id)
    assert queued == 6
    assert (done.state, done.remaining, done.sent, done.delivered) == ("dispatched", 0, 6, 6)
    assert done.rate_per_second > 0


def test_message_queued_for_an_expired_or_revoked_ticket_is_never_sent(stack: EmbeddedStack) -> None:
    tenant = create_test_tenant(stack, new_slug("ex"), notification_emails=[], channel_plugins=OUTBOX)
    job_id = make_job(stack.rt, tenant, [Customer(contacts=[("sms", phone(n))]) for n in range(3)])
    with held_outbox(stack):
        start(stack.rt, tenant, job_id)
        starting.create_tickets(stack.rt, tenant, job_id)
        with stack.rt.db.tenant_session(tenant) as session:
            tickets = session.scalars(select(Ticket).where(Ticket.job_id == job_id).order_by(Ticket.id)).all()
            tickets[0].expires_at = clock.now() - timedelta(minutes=1)
            tickets[1].revoked_at = clock.now()
            session.commit()
    wait_idle(stack)

    rows = message_rows(stack.rt, tenant, job_id)
    assert [message.status for _, message in rows] == ["rejected", "rejected", "delivered"]
    assert all((message.error or "").startswith("not sent: ticket") for _, message in rows[:2])
    with stack.rt.db.tenant_session(tenant) as session:
        stored = session.scalars(select(StoredMessage.to_address)).all()
    assert stored == [phone(2)]
    assert job_state(stack.rt, tenant, job_id) == "dispatched"
