"""Per-token rate limits, problem details for every error status, and audit of rejected writes."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import msgspec
import pytest
import time_machine
from sqlalchemy import select

from bolletta.platform import runtime
from bolletta.platform.api.auth import seconds_until_next_window
from bolletta.platform.api.tokens import create_token
from bolletta.platform.db.models.tenant import AuditEntry
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import web_client

PROBLEM = "application/problem+json"
LIMIT = 3


@pytest.fixture
def client(stack: EmbeddedStack) -> Iterator[httpx.Client]:
    with web_client(stack) as http:
        yield http


@pytest.fixture
def low_limit(stack: EmbeddedStack, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = msgspec.structs.replace(stack.rt.settings, api_rate_limit_per_minute=LIMIT)
    monkeypatch.setattr(runtime, "_current", dataclasses.replace(stack.rt, settings=settings))


def bearer(stack: EmbeddedStack, tenant: str, *scopes: str) -> dict[str, str]:
    token = create_token(stack.rt.db, tenant, "gestionale", list(scopes), created_by="test").token
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(("now", "expected"), [(30.0, 30), (59.5, 1), (60.0, 60), (119.999, 1), (0.2, 60)])
def test_seconds_until_next_window(now: float, expected: int) -> None:
    assert seconds_until_next_window(now) == expected


@pytest.mark.usefixtures("low_limit")
def test_token_over_limit_gets_429(stack: EmbeddedStack, tenant: str, client: httpx.Client) -> None:
    headers = bearer(stack, tenant, "jobs:read") | {"Accept-Language": "en"}
    other = bearer(stack, tenant, "jobs:read")

    # Frozen 20 seconds into a minute, so the window cannot roll over between the requests.
    with time_machine.travel(datetime(2026, 3, 2, 10, 15, 20, tzinfo=UTC), tick=False):
        allowed = [client.get("/api/v1/jobs/1", headers=headers).status_code for _ in range(LIMIT)]
        limited = client.get("/api/v1/jobs/1", headers=headers)
        other_token = client.get("/api/v1/jobs/1", headers=other)

    assert allowed == [404] * LIMIT
    assert limited.status_code == 429
    assert limited.headers["content-type"].startswith(PROBLEM)
    assert limited.headers["retry-after"] == "40"
    assert limited.json()["title"] == "Too many requests"
    assert limited.json()["detail"] == (
        f"The API token made more than {LIMIT} requests in a minute. Try again in 40 seconds.")
    assert other_token.status_code == 404


@pytest.mark.usefixtures("low_limit")
def test_limit_resets_next_minute(stack: EmbeddedStack, tenant: str, client: httpx.Client) -> None:
    headers = bearer(stack, tenant, "jobs:read")

    with time_machine.travel(datetime(2026, 3, 2, 10, 16, 50, tzinfo=UTC), tick=False):
        statuses = [client.get("/api/v1/jobs/1", headers=headers).status_code for _ in range(LIMIT + 1)]
    with time_machine.travel(datetime(2026, 3, 2, 10, 17, 1, tzinfo=UTC), tick=False):
        later = client.get("/api/v1/jobs/1", headers=headers)

    assert statuses == [404] * LIMIT + [429]
    assert later.status_code == 404


def test_rejected_write_is_audited(stack: EmbeddedStack, tenant: str, client: httpx.Client) -> None:
    headers = bearer(stack, tenant, "jobs:write", "contacts:write")

    upload = client.post("/api/v1/jobs", content=b"x", headers=headers | {"Content-Type": "text/plain"})
    contacts = client.post("/api/v1/contacts", content=b"", headers=headers | {"Content-Type": "text/csv"})

    assert upload.status_code == 415
    assert contacts.status_code == 400
    with stack.rt.db.tenant_session(tenant) as session:
        entries = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "api.write_rejected")
                                       .order_by(AuditEntry.id)))
    assert [(entry.detail["attempted"], entry.detail["status"]) for entry in entries] == [
        ("job.upload", 415), ("contacts.import", 400)]
    assert [entry.target for entry in entries] == ["/api/v1/jobs", "/api/v1/contacts"]
    assert all(entry.actor.startswith("api:token-") for entry in entries)


def test_read_rejection_is_not_audited(stack: EmbeddedStack, tenant: str, client: httpx.Client) -> None:
    client.get("/api/v1/tickets", params={"channel": "fax"}, headers=bearer(stack, tenant, "tickets:read"))

    with stack.rt.db.tenant_session(tenant) as session:
        assert session.scalar(select(AuditEntry).where(AuditEntry.action == "api.write_rejected")) is None


@pytest.mark.parametrize(
    ("language", "title", "detail"),
    [
        ("it", "Richiesta non valida", "Valore non valido per il parametro per_page."),
        ("en-US,en;q=0.9", "Bad request", "Invalid value for the parameter per_page."),
    ],
)
def test_validation_problem_is_translated(stack: EmbeddedStack, tenant: str, client: httpx.Client, language: str,
                                          title: str, detail: str) -> None:
    response = client.get("/api/v1/bills", params={"per_page": 0},
                          headers=bearer(stack, tenant, "bills:read") | {"Accept-Language": language})

    assert response.status_code == 400
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["title"] == title
    assert response.json()["detail"].startswith(detail)
    assert response.json()["instance"] == "/api/v1/bills"
