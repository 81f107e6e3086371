"""Job transitions, who may make them, and the audit log of staff decisions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bolletta.platform.db.models.tenant import AuditEntry, Job, JobTransition
from bolletta.platform.errors import InvalidTransition, PermissionDenied
from bolletta.platform.jobs import approval, states
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import (
    WITHOUT_SMTP,
    StaffLogin,
    create_staff,
    create_test_tenant,
    load_job,
    new_slug,
    run_to_test_sent,
    wait_idle,
)


def transitions(stack: EmbeddedStack, tenant: str, job_id: int) -> list[tuple[str | None, str, str]]:
    with stack.rt.db.tenant_session(tenant) as session:
        rows = session.scalars(
            select(JobTransition).where(JobTransition.job_id == job_id).order_by(JobTransition.id)
        ).all()
    return [(row.from_state, row.to_state, row.actor) for row in rows]


def audit_entries(stack: EmbeddedStack, tenant: str) -> list[AuditEntry]:
    with stack.rt.db.tenant_session(tenant) as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_every_transition_has_actor(
    stack: EmbeddedStack, tenant: str, tested_job: int, operator: StaffLogin
) -> None:
    approval.approve(stack.rt, tenant, tested_job, operator.staff)
    approval.start_dispatch(stack.rt, tenant, tested_job, operator.staff)
    wait_idle(stack)

    user = f"user:{operator.staff.username}"
    assert transitions(stack, tenant, tested_job) == [
        (None, states.RECEIVED, "api:test"),
        (states.RECEIVED, states.PARSING, "system:parser"),
        (states.PARSING, states.PARSED, "system:parser"),
        (states.PARSED, states.TEST_SENT, "system:test-batch"),
        (states.TEST_SENT, states.APPROVED, user),
        (states.APPROVED, states.DISPATCHING, user),
        (states.DISPATCHING, states.DISPATCHED, "system:dispatcher"),
    ]
    job = load_job(stack, tenant, tested_job)
    assert job.approved_by == operator.staff.username
    assert job.started_by == operator.staff.username
    assert job.finished_at is not None


def test_approve_and_start_are_audited(
    stack: EmbeddedStack, tenant: str, tested_job: int, operator: StaffLogin
) -> None:
    approval.approve(stack.rt, tenant, tested_job, operator.staff)
    approval.start_dispatch(stack.rt, tenant, tested_job, operator.staff)
    wait_idle(stack)

    entries = [entry for entry in audit_entries(stack, tenant) if entry.target == f"job:{tested_job}"]
    assert [entry.action for entry in entries] == ["job.approve", "job.start_dispatch"]
    for entry in entries:
        assert entry.actor == f"user:{operator.staff.username}"
        assert entry.user_id == operator.staff.user_id
        assert entry.ip == "127.0.0.1"


def test_reject_is_audited_with_reason(
    stack: EmbeddedStack, tenant: str, tested_job: int, operator: StaffLogin
) -> None:
    approval.reject(stack.rt, tenant, tested_job, operator.staff, "Importi errati")

    job = load_job(stack, tenant, tested_job)
    assert job.state == states.TEST_REJECTED
    assert job.rejection_reason == "Importi errati"
    entries = [entry for entry in audit_entries(stack, tenant) if entry.action == "job.reject"]
    assert len(entries) == 1
    assert entries[0].detail == {"reason": "Importi errati", "bills_withdrawn": job.bills_accepted}
    assert job.bills_accepted > 0


def test_move_rejects_skipped_state(stack: EmbeddedStack, tenant: str, tested_job: int) -> None:
    before = transitions(stack, tenant, tested_job)
    with stack.rt.db.tenant_session(tenant) as session:
        job = session.get_one(Job, tested_job)
        with pytest.raises(InvalidTransition, match="cannot go from test_sent to dispatching"):
            states.move(session, job, states.DISPATCHING, actor="test")
        session.commit()

    assert load_job(stack, tenant, tested_job).state == states.TEST_SENT
    assert transitions(stack, tenant, tested_job) == before


def test_move_rejects_stale_state(stack: EmbeddedStack, tenant: str, tested_job: int, operator: StaffLogin) -> None:
    with stack.rt.db.tenant_session(tenant) as session:
        stale = session.get_one(Job, tested_job)
        approval.approve(stack.rt, tenant, tested_job, operator.staff)
        with pytest.raises(InvalidTransition, match="no longer test_sent"):
            states.move(session, stale, states.TEST_REJECTED, actor="test")
        session.rollback()

    assert load_job(stack, tenant, tested_job).state == states.APPROVED


def test_approve_twice_is_invalid(stack: EmbeddedStack, tenant: str, tested_job: int, operator: StaffLogin) -> None:
    approval.approve(stack.rt, tenant, tested_job, operator.staff)

    with pytest.raises(InvalidTransition):
        approval.approve(stack.rt, tenant, tested_job, operator.staff)
    approvals = [entry for entry in audit_entries(stack, tenant) if entry.action == "job.approve"]
    assert len(approvals) == 1


def test_start_before_approval_is_invalid(
    stack: EmbeddedStack, tenant: str, tested_job: int, operator: StaffLogin
) -> None:
    with pytest.raises(InvalidTransition):
        approval.start_dispatch(stack.rt, tenant, tested_job, operator.staff)
    assert load_job(stack, tenant, tested_job).state == states.TEST_SENT


def test_viewer_cannot_approve(stack: EmbeddedStack, tenant: str, tested_job: int) -> None:
    viewer = create_staff(stack, f"{tenant}.revisore", "tenant_viewer", tenant)

    with pytest.raises(PermissionDenied):
        approval.approve(stack.rt, tenant, tested_job, viewer.staff)
    with pytest.raises(PermissionDenied):
        approval.reject(stack.rt, tenant, tested_job, viewer.staff, "no")
    assert load_job(stack, tenant, tested_job).state == states.TEST_SENT
    assert audit_entries(stack, tenant) == []


def test_other_tenant_operator_cannot_approve(stack: EmbeddedStack, tenant: str, tested_job: int) -> None:
    other = create_test_tenant(stack, new_slug("job"))
    outsider = create_staff(stack, f"{other}.operatore", "tenant_operator", other)

    with pytest.raises(PermissionDenied):
        approval.approve(stack.rt, tenant, tested_job, outsider.staff)
    assert load_job(stack, tenant, tested_job).state == states.TEST_SENT


def test_start_needs_tenant_permission(stack: EmbeddedStack) -> None:
    tenant = create_test_tenant(stack, new_slug("job"), may_start_dispatch=False, **WITHOUT_SMTP)
    operator = create_staff(stack, f"{tenant}.operatore", "tenant_operator", tenant)
    admin = create_staff(stack, f"{tenant}.piattaforma", "platform_admin", None)
    job_id = run_to_test_sent(stack, tenant)
    approval.approve(stack.rt, tenant, job_id, operator.staff)

    with pytest.raises(PermissionDenied):
        approval.start_dispatch(stack.rt, tenant, job_id, operator.staff)
    assert load_job(stack, tenant, job_id).state == states.APPROVED

    approval.start_dispatch(stack.rt, tenant, job_id, admin.staff)
    wait_idle(stack)

    job = load_job(stack, tenant, job_id)
    assert job.state == states.DISPATCHED
    assert job.started_by == admin.staff.username
    starts = [entry for entry in audit_entries(stack, tenant) if entry.action == "job.start_dispatch"]
    assert [entry.actor for entry in starts] == [f"user:{admin.staff.username}"]


def test_viewer_cannot_start_dispatch(
    stack: EmbeddedStack, tenant: str, tested_job: int, operator: StaffLogin
) -> None:
    viewer = create_staff(stack, f"{tenant}.revisore", "tenant_viewer", tenant)
    approval.approve(stack.rt, tenant, tested_job, operator.staff)

    with pytest.raises(PermissionDenied):
        approval.start_dispatch(stack.rt, tenant, tested_job, viewer.staff)
    assert load_job(stack, tenant, tested_job).state == states.APPROVED
