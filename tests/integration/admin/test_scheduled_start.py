"""The operator schedules a dispatch start; the scheduler's round starts it once, at that time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import AuditEntry
from bolletta.platform.errors import InvalidTransition, PermissionDenied
from bolletta.platform.jobs import approval, states
from bolletta.platform.jobs.scheduled_start import schedule_dispatch, start_due_dispatches
from bolletta.platform.periodic import run_due_tasks
from bolletta.platform.stack import EmbeddedStack
from tests.integration.admin.console_support import AdminLogin, admin_client
from tests.integration.admin.test_tenants_and_jobs import notified_tenant, platform_entries, subjects
from tests.integration.stack_support import create_staff, csrf_token, load_job, run_to_test_sent, wait_idle


def _approved_job(stack: EmbeddedStack, prefix: str) -> tuple[str, int]:
    slug = notified_tenant(stack, prefix)
    job_id = run_to_test_sent(stack, slug)
    approval.approve(stack.rt, slug, job_id, create_staff(stack, f"{slug}.operatore", "tenant_operator", slug).staff)
    return slug, job_id


def test_scheduled_start_runs_once_at_its_time(stack: EmbeddedStack, admin: AdminLogin) -> None:
    slug, job_id = _approved_job(stack, "prog")
    at = (clock.now() + timedelta(hours=2)).astimezone(clock.ROME).replace(second=0, microsecond=0)

    with admin_client(stack, admin) as client:
        page = client.get("/admin/jobs")
        scheduled = client.post(f"/admin/tenants/{slug}/jobs/{job_id}/schedule",
                                data={"at": at.strftime("%Y-%m-%dT%H:%M"), "_csrf_token": csrf_token(page.text)})
        listed = client.get(f"/admin/jobs?tenant={slug}")
    stored = load_job(stack, slug, job_id).dispatch_at
    early = start_due_dispatches(stack.rt)
    with clock.use_clock(lambda: at.astimezone(UTC) - timedelta(minutes=1)):
        too_soon = start_due_dispatches(stack.rt)
    with clock.use_clock(lambda: at.astimezone(UTC) + timedelta(minutes=1)):
        first = start_due_dispatches(stack.rt)
        second = start_due_dispatches(stack.rt)
    wait_idle(stack)

    assert scheduled.headers["location"] == "/admin/jobs?done=schedule"
    assert "Inoltro programmato per il" in listed.text
    assert stored is not None
    assert clock.as_utc(stored) == at
    assert early == 0
    assert too_soon == 0
    assert first == 1
    assert second == 0
    job = load_job(stack, slug, job_id)
    assert job.state == states.DISPATCHED
    assert job.started_by == admin.username
    assert job.dispatch_at is None
    assert any("inoltro ticket avviato" in subject for subject in subjects(stack, slug))
    with stack.rt.db.tenant_session(slug) as session:
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions[-2:] == ["job.schedule_dispatch", "job.start_dispatch"]
    assert [action for action, _ in platform_entries(stack, slug)] == ["job.schedule"]


def test_scheduler_round_starts_due_job(stack: EmbeddedStack) -> None:
    slug, job_id = _approved_job(stack, "giro")
    operator = create_staff(stack, f"{slug}.piattaforma", "platform_admin", None).staff
    schedule_dispatch(stack.rt, slug, job_id, operator, clock.now() + timedelta(minutes=5))

    with clock.use_clock(lambda: datetime.now(UTC) + timedelta(minutes=6)):
        run_due_tasks(stack.rt)
    wait_idle(stack)

    assert load_job(stack, slug, job_id).state == states.DISPATCHED


def test_cancelled_job_schedule_dropped(stack: EmbeddedStack) -> None:
    slug, job_id = _approved_job(stack, "annp")
    operator = create_staff(stack, f"{slug}.piattaforma", "platform_admin", None).staff
    schedule_dispatch(stack.rt, slug, job_id, operator, clock.now() + timedelta(minutes=5))
    approval.cancel(stack.rt, slug, job_id, operator)

    with clock.use_clock(lambda: datetime.now(UTC) + timedelta(minutes=6)):
        started = start_due_dispatches(stack.rt)

    assert started == 0
    job = load_job(stack, slug, job_id)
    assert job.state == states.CANCELLED
    assert job.dispatch_at is None


def test_bad_schedules_rejected(stack: EmbeddedStack, admin: AdminLogin) -> None:
    slug, job_id = _approved_job(stack, "errp")
    operator = create_staff(stack, f"{slug}.piattaforma", "platform_admin", None).staff
    tenant_operator = create_staff(stack, f"{slug}.op2", "tenant_operator", slug).staff

    with pytest.raises(InvalidTransition, match="future"):
        schedule_dispatch(stack.rt, slug, job_id, operator, clock.now() - timedelta(minutes=1))
    with pytest.raises(InvalidTransition, match="90 days"):
        schedule_dispatch(stack.rt, slug, job_id, operator, clock.now() + timedelta(days=91))
    with pytest.raises(PermissionDenied):
        schedule_dispatch(stack.rt, slug, job_id, tenant_operator, clock.now() + timedelta(hours=1))
    with admin_client(stack, admin) as client:
        token = csrf_token(client.get("/admin/jobs").text)
        unreadable = client.post(f"/admin/tenants/{slug}/jobs/{job_id}/schedule",
                                 data={"at": "domani sera", "_csrf_token": token})
        past = client.post(f"/admin/tenants/{slug}/jobs/{job_id}/schedule",
                           data={"at": "2020-01-01T10:00", "_csrf_token": token})

    assert unreadable.status_code == 400
    assert past.headers["location"] == "/admin/jobs?error=schedule"
    assert load_job(stack, slug, job_id).dispatch_at is None


def test_start_now_drops_the_schedule(stack: EmbeddedStack) -> None:
    slug, job_id = _approved_job(stack, "orap")
    operator = create_staff(stack, f"{slug}.piattaforma", "platform_admin", None).staff
    schedule_dispatch(stack.rt, slug, job_id, operator, clock.now() + timedelta(hours=1))

    approval.start_dispatch(stack.rt, slug, job_id, operator)
    wait_idle(stack)

    assert load_job(stack, slug, job_id).dispatch_at is None


def test_unknown_tenant_answers_404(stack: EmbeddedStack, admin: AdminLogin) -> None:
    with admin_client(stack, admin) as client:
        token = csrf_token(client.get("/admin/jobs").text)
        cancel = client.post("/admin/tenants/nessuno/jobs/1/cancel", data={"_csrf_token": token})
        schedule = client.post("/admin/tenants/nessuno/jobs/1/schedule",
                               data={"at": "2030-01-01T10:00", "_csrf_token": token})

    assert cancel.status_code == 404
    assert schedule.status_code == 404
    assert not (stack.rt.settings.data_path / "tenants" / "nessuno.db").exists()
