"""Flow upload in the backoffice over HTTP: the form, roles, CSRF, duplicates and the size limit."""

from __future__ import annotations

import dataclasses
import html
from functools import cache

import httpx
import msgspec
from litestar.testing import TestClient
from sqlalchemy import func, select

from bolletta.platform.app import create_litestar
from bolletta.platform.db.models.tenant import AuditEntry, Job
from bolletta.platform.demo.flow import DemoFlow, build_demo_flow
from bolletta.platform.jobs import states
from bolletta.platform.stack import EmbeddedStack
from bolletta.tenants import lifecycle
from tests.integration.stack_support import StaffLogin, csrf_token, load_job, signed_in_client, wait_idle


@cache
def demo_flow() -> DemoFlow:
    return build_demo_flow()


def post_upload(
    client: httpx.Client | TestClient, name: str, content: bytes, *, with_csrf: bool = True
) -> httpx.Response:
    page = client.get("/office/upload")
    assert page.status_code == 200, page.status_code
    form = {"_csrf_token": csrf_token(page.text)} if with_csrf else {}
    return client.post("/office/upload", data=form, files={"archive": (name, content, "application/zip")})


def job_count(stack: EmbeddedStack, tenant: str) -> int:
    with stack.rt.db.tenant_session(tenant) as session:
        return session.scalar(select(func.count(Job.id))) or 0


def test_upload_page_has_plain_form(stack: EmbeddedStack, operator: StaffLogin) -> None:
    with signed_in_client(stack, operator) as client:
        page = client.get("/office/upload")
        script = client.get("/static/office-upload.js")

    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text
    assert 'name="archive" type="file"' in page.text
    assert 'href="/office/upload">Carica flusso</a>' in page.text
    assert '<script src="/static/office-upload.js" defer></script>' in page.text
    assert "<script>" not in page.text
    assert "Dimensione massima: 512 MiB." in page.text
    assert script.status_code == 200
    assert "XMLHttpRequest" in script.text


def test_upload_opens_job_that_parses(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    flow = demo_flow()

    with signed_in_client(stack, operator) as client:
        response = post_upload(client, flow.filename, flow.archive)
        wait_idle(stack)
        job_id = int(response.headers["location"].rsplit("/", 1)[-1])
        page = client.get(response.headers["location"])

    assert response.status_code == 303
    job = load_job(stack, tenant, job_id)
    assert job.source == "office"
    assert job.opened_by == f"user:{operator.staff.username}"
    assert job.filename == flow.filename
    assert job.state == states.TEST_SENT
    assert job.bills_accepted == len(flow.document_numbers)
    assert page.status_code == 200
    assert "già stato caricato" not in html.unescape(page.text)


def test_upload_is_audited(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    with signed_in_client(stack, operator) as client:
        post_upload(client, "flusso.zip", demo_flow().archive)

    with stack.rt.db.tenant_session(tenant) as session:
        entries = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "job.upload")))
    assert len(entries) == 1
    assert entries[0].actor == f"user:{operator.staff.username}"
    assert entries[0].user_id == operator.staff.user_id
    assert entries[0].detail["created"] is True


def test_same_archive_shows_existing_job(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    flow = demo_flow()

    with signed_in_client(stack, operator) as client:
        first = post_upload(client, flow.filename, flow.archive)
        second = post_upload(client, "copia.zip", flow.archive)
        page = client.get(second.headers["location"])

    assert second.status_code == 303
    assert second.headers["location"] == first.headers["location"] + "?notice=duplicate"
    assert "Questo archivio è già stato caricato" in html.unescape(page.text)
    assert job_count(stack, tenant) == 1


def test_viewer_cannot_upload(stack: EmbeddedStack, tenant: str, viewer: StaffLogin) -> None:
    with signed_in_client(stack, viewer) as client:
        dashboard = client.get("/office/")
        page = client.get("/office/upload")
        token = csrf_token(dashboard.text)
        posted = client.post("/office/upload", data={"_csrf_token": token},
                             files={"archive": ("flusso.zip", demo_flow().archive, "application/zip")})

    assert 'href="/office/upload"' not in dashboard.text
    assert page.status_code == 403
    assert posted.status_code == 403
    assert job_count(stack, tenant) == 0


def test_upload_without_csrf_is_rejected(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    with signed_in_client(stack, operator) as client:
        response = post_upload(client, "flusso.zip", demo_flow().archive, with_csrf=False)

    assert response.status_code == 403
    assert job_count(stack, tenant) == 0


def test_upload_without_session_goes_to_login(stack: EmbeddedStack) -> None:
    with httpx.Client(base_url=stack.base_url) as client:
        response = client.get("/office/upload", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/office/login"


def test_file_that_is_not_a_flow(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    with signed_in_client(stack, operator) as client:
        response = post_upload(client, "foto.jpg", b"\xff\xd8\xff")

    assert response.status_code == 400
    assert "Il file non è un flusso di fatturazione" in html.unescape(response.text)
    assert job_count(stack, tenant) == 0


def test_empty_file(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    with signed_in_client(stack, operator) as client:
        response = post_upload(client, "vuoto.zip", b"")

    assert response.status_code == 400
    assert "Il file è vuoto" in html.unescape(response.text)
    assert job_count(stack, tenant) == 0


def test_file_over_limit_shows_italian_error(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    small = dataclasses.replace(stack.rt, settings=msgspec.structs.replace(stack.rt.settings, upload_max_bytes=2048))

    with TestClient(create_litestar(small)) as client:
        page = client.get("/office/login")
        signed_in = client.post("/office/login", follow_redirects=False, data={
            "username": operator.staff.username, "password": operator.password, "_csrf_token": csrf_token(page.text)})
        assert signed_in.status_code == 303
        response = post_upload(client, "grande.zip", b"0" * 8192)

    assert response.status_code == 413
    assert "Il file supera il limite di caricamento di 2 KiB" in html.unescape(response.text)
    assert job_count(stack, tenant) == 0


def test_suspended_utility_opens_no_job(stack: EmbeddedStack, tenant: str, operator: StaffLogin) -> None:
    before = job_count(stack, tenant)
    lifecycle.suspend(stack.rt, tenant, "user:ops")
    try:
        with signed_in_client(stack, operator) as client:
            response = post_upload(client, demo_flow().filename, demo_flow().archive)
    finally:
        lifecycle.resume(stack.rt, tenant, "user:ops")

    assert response.status_code == 400
    assert "sospeso" in html.unescape(response.text)
    assert job_count(stack, tenant) == before
