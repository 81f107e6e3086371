"""The tenants page's health figures and the operator's actions on the cross-tenant job list."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import msgspec
from sqlalchemy import delete, select

from bolletta.platform.db.models.platform import PlatformAuditEntry, Tenant
from bolletta.platform.db.models.tenant import AuditEntry
from bolletta.platform.jobs import approval, states
from bolletta.platform.jobs.opening import open_job
from bolletta.platform.stack import EmbeddedStack
from bolletta.tenants.config import decode_config
from tests.integration.admin.console_support import AdminLogin, admin_client
from tests.integration.stack_support import (
    WITHOUT_SMTP,
    create_staff,
    create_test_tenant,
    csrf_token,
    held_outbox,
    load_job,
    mails_to,
    new_slug,
    run_to_test_sent,
    wait_idle,
)


def tenant_row(html: str, slug: str) -> str:
    found = re.search(rf'<tr class="tenant-row" data-tenant="{slug}">(.*?)</tr>', html, re.S)
    assert found is not None, f"tenant {slug} is not listed"
    return found.group(1)


def cell(row: str, name: str) -> str:
    found = re.search(rf'<td class="number {name}">(\d+)', row)
    assert found is not None, f"no {name} cell in {row!r}"
    return found.group(1)


def test_tenants_page_shows_each_tenant_health(stack: EmbeddedStack, admin: AdminLogin) -> None:
    waiting = create_test_tenant(stack, new_slug("attesa"), **WITHOUT_SMTP)
    broken = create_test_tenant(stack, new_slug("guasto"), **WITHOUT_SMTP)
    idle = create_test_tenant(stack, new_slug("fermo"), **WITHOUT_SMTP)
    job_id = run_to_test_sent(stack, waiting)
    open_job(stack.rt, broken, b"PK\x03\x04 not a whole zip file", "troncato.zip", source="api", opened_by="api:test")
    wait_idle(stack)

    with admin_client(stack, admin) as client:
        page = client.get("/admin/tenants")

    assert page.status_code == 200
    waiting_row, broken_row, idle_row = (tenant_row(page.text, slug) for slug in (waiting, broken, idle))
    assert f"#{job_id}" in waiting_row
    assert cell(waiting_row, "awaiting-approval") == "1"
    assert cell(waiting_row, "errors") == "0"
    assert cell(broken_row, "errors") == "1"
    assert cell(broken_row, "awaiting-approval") == "0"
    assert "–" in idle_row
    assert cell(idle_row, "dispatching") == "0"
    assert "outbox, smtp" in idle_row
    assert "sandbox" in idle_row  # the plugins enabled by default


def post_action(client: httpx.Client, tenant: str, job_id: int, action: str) -> httpx.Response:
    token = csrf_token(client.get("/admin/jobs").text)
    return client.post(f"/admin/tenants/{tenant}/jobs/{job_id}/{action}", data={"_csrf_token": token})


def notified_tenant(stack: EmbeddedStack, prefix: str) -> str:
    """A tenant whose staff may not start dispatches and whose job events are e-mailed to its staff."""
    slug = create_test_tenant(stack, new_slug(prefix), **{**WITHOUT_SMTP, "may_start_dispatch": False})
    with stack.rt.db.platform_session() as session:
        row = session.scalars(select(Tenant).where(Tenant.slug == slug)).one()
        config = msgspec.structs.replace(decode_config(row.settings), notification_emails=[f"staff@{slug}.example"])
        row.settings = msgspec.to_builtins(config)
        session.commit()
    return slug


def subjects(stack: EmbeddedStack, slug: str) -> list[str]:
    return [str(mail.message["Subject"]) for mail in mails_to(stack, f"staff@{slug}.example")]


def platform_entries(stack: EmbeddedStack, slug: str) -> list[tuple[str, dict[str, object]]]:
    with stack.rt.db.platform_session() as session:
        rows = session.execute(select(PlatformAuditEntry.action, PlatformAuditEntry.detail)
                               .where(PlatformAuditEntry.target == slug).order_by(PlatformAuditEntry.id)).all()
    return [(action, detail) for action, detail in rows]


def test_operator_cancels_a_job_before_its_dispatch(stack: EmbeddedStack, admin: AdminLogin) -> None:
    slug = notified_tenant(stack, "annulla")
    job_id = run_to_test_sent(stack, slug)

    with admin_client(stack, admin) as client:
        listed = client.get(f"/admin/jobs?tenant={slug}")
        too_early = post_action(client, slug, job_id, "start")  # the test batch is not approved yet
        cancel = post_action(client, slug, job_id, "cancel")
        again = post_action(client, slug, job_id, "cancel")
    wait_idle(stack)

    assert f'data-job="{slug}:{job_id}"' in listed.text
    assert too_early.headers["location"] == "/admin/jobs?error=start"
    assert cancel.headers["location"] == "/admin/jobs?done=cancel"
    assert again.headers["location"] == "/admin/jobs?error=cancel"
    assert load_job(stack, slug, job_id).state == states.CANCELLED
    assert any("lavorazione annullata" in subject for subject in subjects(stack, slug))
    with stack.rt.db.tenant_session(slug) as session:
        assert "job.cancel" in list(session.scalars(select(AuditEntry.action)))
    assert platform_entries(stack, slug) == [("job.cancel", {"job": job_id})]


def test_operator_starts_pauses_and_resumes_a_dispatch(stack: EmbeddedStack, admin: AdminLogin) -> None:
    slug = notified_tenant(stack, "avvia")
    job_id = run_to_test_sent(stack, slug)
    approval.approve(stack.rt, slug, job_id, create_staff(stack, f"{slug}.operatore", "tenant_operator", slug).staff)

    with held_outbox(stack), admin_client(stack, admin) as client:
        started = post_action(client, slug, job_id, "start")
        paused = post_action(client, slug, job_id, "pause")
        state_paused = load_job(stack, slug, job_id).state
        resumed = post_action(client, slug, job_id, "resume")
    wait_idle(stack)

    assert [started.headers["location"], paused.headers["location"], resumed.headers["location"]] == [
        "/admin/jobs?done=start", "/admin/jobs?done=pause", "/admin/jobs?done=resume"]
    assert state_paused == states.PAUSED
    assert load_job(stack, slug, job_id).state == states.DISPATCHED
    sent = subjects(stack, slug)
    for expected in ("inoltro ticket avviato", "inoltro ticket sospeso", "inoltro ticket ripreso"):
        assert any(expected in subject for subject in sent), (expected, sent)
    assert [action for action, _ in platform_entries(stack, slug)] == ["job.start", "job.pause", "job.resume"]


def test_unreadable_and_suspended_tenants_are_listed(stack: EmbeddedStack, admin: AdminLogin) -> None:
    missing = new_slug("senzadati")
    suspended = create_test_tenant(stack, new_slug("sospeso"), **WITHOUT_SMTP)
    with stack.rt.db.platform_session() as session:
        # A tenant row whose schema was never built, as after a provisioning interrupted by hand.
        session.add(Tenant(slug=missing, name="Senza dati S.p.A.", status="active", settings={},
                           created_at=datetime.now(UTC)))
        session.scalars(select(Tenant).where(Tenant.slug == suspended)).one().status = "suspended"
        session.commit()

    try:
        with admin_client(stack, admin) as client:
            page = client.get("/admin/tenants")
            jobs = client.get("/admin/jobs")
            system = client.get("/admin/system")
    finally:
        # Work that visits every tenant (the outbox relay) must not meet this row in later tests.
        with stack.rt.db.platform_session() as session:
            session.execute(delete(Tenant).where(Tenant.slug == missing))
            session.commit()

    assert page.status_code == 200
    assert "Dati non leggibili" in tenant_row(page.text, missing)
    assert "sospesa" in tenant_row(page.text, suspended)
    assert jobs.status_code == 200
    assert missing in jobs.text  # named among the tenants whose jobs could not be read
    assert system.status_code == 200
    assert missing in system.text
