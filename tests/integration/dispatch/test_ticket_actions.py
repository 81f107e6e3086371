"""Staff actions on a ticket: re-send to the same or another contact, revoke, extend; all audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import AuditEntry, Message, Ticket
from bolletta.platform.errors import InvalidTransition, PermissionDenied
from bolletta.platform.jobs.approval import Staff
from bolletta.platform.stack import EmbeddedStack
from bolletta.platform.tickets import actions
from tests.integration.dispatch.support import Customer, make_job, message_rows, phone, start
from tests.integration.stack_support import create_test_tenant, new_slug, wait_idle

OUTBOX = {"sms": "outbox", "email": "outbox", "whatsapp": "outbox"}


@pytest.fixture
def dispatched(stack: EmbeddedStack) -> tuple[str, int, Staff]:
    tenant = create_test_tenant(stack, new_slug("ta"), notification_emails=[], channel_plugins=OUTBOX)
    job_id = make_job(stack.rt, tenant, [Customer(contacts=[("sms", phone(1))])])
    start(stack.rt, tenant, job_id)
    wait_idle(stack)
    [(ticket, _)] = message_rows(stack.rt, tenant, job_id)
    operator = Staff(user_id=None, username=f"{tenant}.op", role="tenant_operator", tenant=tenant)
    return tenant, ticket.id, operator


def audit_actions(stack: EmbeddedStack, tenant: str) -> list[str]:
    with stack.rt.db.tenant_session(tenant) as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_resend_to_same_contact_adds_a_message(stack: EmbeddedStack, dispatched: tuple[str, int, Staff]) -> None:
    tenant, ticket_id, operator = dispatched
    outcome = actions.resend(stack.rt, tenant, ticket_id, operator)
    wait_idle(stack)

    assert outcome.ticket_id == ticket_id and not outcome.new_ticket
    with stack.rt.db.tenant_session(tenant) as session:
        messages = session.scalars(select(Message).where(Message.ticket_id == ticket_id).order_by(Message.id)).all()
    assert [m.status for m in messages] == ["delivered", "delivered"]
    assert messages[1].idempotency_key == f"ticket-{ticket_id}-2"
    assert messages[1].origin == f"user:{operator.username}"
    assert audit_actions(stack, tenant) == ["job.start_dispatch", "ticket.resend"]


def test_resend_to_another_contact_makes_a_new_ticket(stack: EmbeddedStack,
                                                     dispatched: tuple[str, int, Staff]) -> None:
    tenant, ticket_id, operator = dispatched
    kept = actions.resend(stack.rt, tenant, ticket_id, operator, channel="email", address="nuovo@example.org")
    replaced = actions.resend(stack.rt, tenant, ticket_id, operator, channel="sms", address=phone(2),
                              revoke_old=True)
    wait_idle(stack)

    assert kept.new_ticket and replaced.new_ticket
    with stack.rt.db.tenant_session(tenant) as session:
        old = session.get_one(Ticket, ticket_id)
        new = session.get_one(Ticket, kept.ticket_id)
        detail = session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "ticket.resend")).all()
    assert old.revoked_at is not None
    assert (new.channel, new.address, new.previous_ticket_id) == ("email", "nuovo@example.org", ticket_id)
    assert all(entry["address"] != "nuovo@example.org" for entry in detail)  # masked in the audit log


def test_revoke_then_extend_is_refused(stack: EmbeddedStack, dispatched: tuple[str, int, Staff]) -> None:
    tenant, ticket_id, operator = dispatched
    actions.revoke(stack.rt, tenant, ticket_id, operator, reason="wrong address")
    with pytest.raises(InvalidTransition, match="revoked"):
        actions.extend(stack.rt, tenant, ticket_id, operator, days=5)
    with pytest.raises(InvalidTransition, match="revoked or expired"):
        actions.resend(stack.rt, tenant, ticket_id, operator)
    assert audit_actions(stack, tenant)[-1] == "ticket.revoke"


def test_extend_moves_expiry_and_is_audited(stack: EmbeddedStack, dispatched: tuple[str, int, Staff]) -> None:
    tenant, ticket_id, operator = dispatched
    with stack.rt.db.tenant_session(tenant) as session:
        before = clock.as_utc(session.get_one(Ticket, ticket_id).expires_at)
    actions.extend(stack.rt, tenant, ticket_id, operator, days=7)
    with stack.rt.db.tenant_session(tenant) as session:
        after = clock.as_utc(session.get_one(Ticket, ticket_id).expires_at)
    assert after - before == timedelta(days=7)
    assert audit_actions(stack, tenant)[-1] == "ticket.extend"
    with pytest.raises(ValueError, match="between 1 and 90"):
        actions.extend(stack.rt, tenant, ticket_id, operator, days=365)


def test_staff_of_another_tenant_cannot_act(stack: EmbeddedStack, dispatched: tuple[str, int, Staff]) -> None:
    tenant, ticket_id, _ = dispatched
    stranger = Staff(user_id=None, username="other.op", role="tenant_operator", tenant="someone-else")
    with pytest.raises(PermissionDenied):
        actions.revoke(stack.rt, tenant, ticket_id, stranger)
    with pytest.raises(PermissionDenied):
        actions.resend(stack.rt, tenant, ticket_id, stranger)
