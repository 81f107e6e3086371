"""The jobs API over HTTP: upload, duplicate, read, and the token, scope and tenant checks."""

from __future__ import annotations

import dataclasses
import io
import zipfile
from collections.abc import Iterator
from functools import cache

import httpx
import msgspec
import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from bolletta.platform.api.tokens import create_token, revoke_token
from bolletta.platform.app import create_litestar
from bolletta.platform.db.models.platform import ApiToken
from bolletta.platform.db.models.tenant import AuditEntry
from bolletta.platform.demo.flow import DemoFlow, build_demo_flow
from bolletta.platform.jobs import states
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import (
    WITHOUT_SMTP,
    create_test_tenant,
    load_job,
    new_slug,
    open_demo_job,
    wait_idle,
    web_client,
)

PROBLEM = "application/problem+json"


@cache
def demo_flow() -> DemoFlow:
    return build_demo_flow()


@cache
def other_flow() -> DemoFlow:
    return build_demo_flow(seed=7)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_token(stack: EmbeddedStack, tenant: str, *scopes: str) -> str:
    return create_token(stack.rt.db, tenant, "gestionale", scopes or ("jobs:write", "jobs:read"),
                        created_by="test").token


def token_row(stack: EmbeddedStack, token_id: int) -> ApiToken:
    with stack.rt.db.platform_session() as session:
        row = session.get(ApiToken, token_id)
    assert row is not None
    return row


@pytest.fixture
def client(stack: EmbeddedStack) -> Iterator[httpx.Client]:
    with web_client(stack) as http:
        yield http


def upload(client: httpx.Client, token: str, flow: DemoFlow) -> httpx.Response:
    return client.post("/api/v1/jobs", headers=bearer(token),
                       files={"archive": (flow.filename, flow.archive, "application/zip")})


def test_upload_opens_job_and_get_reads_it(stack: EmbeddedStack, tenant: str, client: httpx.Client) -> None:
    token = new_token(stack, tenant)

    created = upload(client, token, demo_flow())
    body = created.json()
    wait_idle(stack)
    status = client.get(body["links"]["self"], headers=bearer(token))

    assert created.status_code == 201
    assert body["created"] is True
    assert body["filename"] == demo_flow().filename
    assert body["state"] == states.RECEIVED
    assert len(body["sha256"]) == 64
    assert created.headers["location"] == f"/api/v1/jobs/{body['id']}"
    job = load_job(stack, tenant, body["id"])
    assert job.source == "api"
    assert job.opened_by.startswith("api:token-")
    assert status.status_code == 200
    read = status.json()
    assert read["state"] == states.TEST_SENT
    assert read["counts"]["bills_accepted"] == len(demo_flow().document_numbers)
    assert read["counts"]["bills_rejected"] == 0
    assert read["report"]["accepted"] == len(demo_flow().document_numbers)
    assert read["report_truncated"] is False
    assert read["links"]["report"] == f"/api/v1/jobs/{body['id']}/report"
    assert read["sha256"] == body["sha256"]


def test_upload_is_audited(stack: EmbeddedStack, tenant: str, client: httpx.Client) -> None:
    token = new_token(stack, tenant)

    job_id = upload(client, token, demo_flow()).json()["id"]

    with stack.rt.db.tenant_session(tenant) as session:
        entries = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "job.upload")))
    assert len(entries) == 1
    assert entries[0].target == f"job:{job_id}"
    assert entries[0].actor.startswith("api:token-")
    assert entries[0].detail["created"] is True


def test_duplicate_archive_returns_existing_job(stack: EmbeddedStack, tenant: str, client: httpx.Client) -> None:
    token = new_token(stack, tenant)

    first = upload(client, token, demo_flow())
    second = upload(client, token, demo_flow())

    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["created"] is False
    assert second.json()["id"] == first.json()["id"]
    assert "location" not in second.headers


def test_raw_zip_body_with_filename(stack: EmbeddedStack, tenant: str, client: httpx.Client) -> None:
    token = new_token(stack, tenant)
    flow = other_flow()

    response = client.post("/api/v1/jobs", params={"filename": "emissione.zip"}, content=flow.archive,
                           headers=bearer(token) | {"Content-Type": "application/zip"})

    assert response.status_code == 201
    assert response.json()["filename"] == "emissione.zip"
    wait_idle(stack)
    assert load_job(stack, tenant, response.json()["id"]).bills_accepted == len(flow.document_numbers)


@pytest.mark.parametrize(("media_type", "filename"), [
    ("application/xml", "IT01234567890_00001.xml"),
    ("text/xml", "IT01234567890_00001.xml"),
])
def test_raw_xml_body_opens_job(
    stack: EmbeddedStack, tenant: str, client: httpx.Client, media_type: str, filename: str
) -> None:
    token = new_token(stack, tenant)
    with zipfile.ZipFile(io.BytesIO(other_flow().archive)) as archive:
        name = next(name for name in archive.namelist() if name.endswith(".xml"))
        xml = archive.read(name)

    response = client.post("/api/v1/jobs", params={"filename": filename}, content=xml,
                           headers=bearer(token) | {"Content-Type": media_type})

    assert response.status_code == 201
    wait_idle(stack)
    assert load_job(stack, tenant, response.json()["id"]).bills_accepted >= 1


def test_raw_body_needs_filename(stack: EmbeddedStack, tenant: str, client: httpx.Client) -> None:
    token = new_token(stack, tenant)

    response = client.post("/api/v1/jobs", content=b"PK\x03\x04", headers=bearer(token) | {
        "Content-Type": "application/zip"})

    assert response.status_code == 400
    assert response.headers["content-type"].startswith(PROBLEM)
    assert "filename" in response.json()["detail"]


def test_wrong_media_type_is_415(stack: EmbeddedStack, tenant: str, client: httpx.Client) -> None:
    token = new_token(stack, tenant)

    response = client.post("/api/v1/jobs", content=b"x", headers=bearer(token) | {"Content-Type": "text/plain"})

    assert response.status_code == 415
    assert response.headers["content-type"].startswith(PROBLEM)


def test_missing_token_is_401_problem_in_italian(client: httpx.Client) -> None:
    response = client.post("/api/v1/jobs", files={"archive": ("a.zip", b"PK", "application/zip")})

    assert response.status_code == 401
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.headers["www-authenticate"].startswith("Bearer")
    problem = response.json()
    assert problem["status"] == 401
    assert problem["title"] == "Non autenticato"
    assert problem["detail"].startswith("Token API mancante")
    assert problem["instance"] == "/api/v1/jobs"


def test_problem_follows_accept_language(client: httpx.Client) -> None:
    response = client.get("/api/v1/jobs/1", headers={"Accept-Language": "en-GB,en;q=0.9,it;q=0.5"})

    assert response.status_code == 401
    assert response.json()["title"] == "Unauthorized"
    assert response.json()["detail"].startswith("Missing API token")


def test_invalid_token_is_401(client: httpx.Client) -> None:
    response = client.get("/api/v1/jobs/1", headers=bearer("bst_" + "A" * 43))

    assert response.status_code == 401
    assert "non è valido" in response.json()["detail"]


def test_revoked_token_is_401(stack: EmbeddedStack, tenant: str, client: httpx.Client) -> None:
    issued = create_token(stack.rt.db, tenant, "vecchio", ["jobs:read"], created_by="test")
    assert client.get("/api/v1/jobs/1", headers=bearer(issued.token)).status_code == 404

    revoke_token(stack.rt.db, issued.id, revoked_by="test")
    response = client.get("/api/v1/jobs/1", headers=bearer(issued.token))

    assert response.status_code == 401


def test_missing_scope_is_403(stack: EmbeddedStack, tenant: str, client: httpx.Client) -> None:
    read_only = new_token(stack, tenant, "jobs:read")
    write_only = new_token(stack, tenant, "jobs:write")

    posted = upload(client, read_only, demo_flow())
    job_id = upload(client, write_only, demo_flow()).json()["id"]
    read = client.get(f"/api/v1/jobs/{job_id}", headers=bearer(write_only))

    assert posted.status_code == 403
    assert "jobs:write" in posted.json()["detail"]
    assert read.status_code == 403
    assert "jobs:read" in read.json()["detail"]


def test_other_tenants_job_is_404(stack: EmbeddedStack, tenant: str, client: httpx.Client) -> None:
    other = create_test_tenant(stack, new_slug("api"), **WITHOUT_SMTP)
    job_id = open_demo_job(stack, other).job_id
    token = new_token(stack, tenant)

    response = client.get(f"/api/v1/jobs/{job_id}", headers=bearer(token))

    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["detail"] == f"Lavorazione {job_id} non trovata."


def test_token_stored_only_as_hash(stack: EmbeddedStack, tenant: str) -> None:
    issued = create_token(stack.rt.db, tenant, "gestionale", ["jobs:write"], created_by="test")
    row = token_row(stack, issued.id)

    stored = msgspec.json.encode({column.name: getattr(row, column.name) for column in ApiToken.__table__.columns})
    random_part = issued.token.removeprefix("bst_")
    assert issued.token.encode() not in stored
    assert random_part[4:].encode() not in stored
    assert len(random_part) == 43
    assert row.hint == issued.token[:8]


def test_last_use_is_recorded(stack: EmbeddedStack, tenant: str, client: httpx.Client) -> None:
    issued = create_token(stack.rt.db, tenant, "gestionale", ["jobs:read"], created_by="test")
    assert token_row(stack, issued.id).last_used_at is None

    client.get("/api/v1/jobs/1", headers=bearer(issued.token))

    assert token_row(stack, issued.id).last_used_at is not None


def test_body_over_limit_is_413(stack: EmbeddedStack, tenant: str) -> None:
    token = new_token(stack, tenant)
    small = dataclasses.replace(stack.rt, settings=msgspec.structs.replace(stack.rt.settings, upload_max_bytes=1024))

    with TestClient(create_litestar(small)) as test_client:
        response = test_client.post("/api/v1/jobs", headers=bearer(token),
                                    files={"archive": ("grande.zip", b"0" * 4096, "application/zip")})

    assert response.status_code == 413
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["detail"] == (
        "L'archivio supera il limite di caricamento di 1 KiB. Dividi il flusso in archivi più piccoli."
    )
