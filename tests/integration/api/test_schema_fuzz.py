"""The OpenAPI schema at ``/api/v1/schema``, and schemathesis fuzzing every operation of the running app.

The fuzzing token has every scope and its tenant has tickets, bills, payments and jobs, so ids at
the schema's lower bound (1) reach real objects and their 200 responses are checked too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bolletta.platform import runtime
from bolletta.platform.api.tokens import SCOPES, create_token
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import WITHOUT_SMTP, create_test_tenant, new_slug, web_client
from tests.integration.stats import dataset

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
API_OPERATIONS = {
    ("post", "/api/v1/jobs"), ("get", "/api/v1/jobs/{job_id}"), ("get", "/api/v1/jobs/{job_id}/report"),
    ("post", "/api/v1/contacts"), ("get", "/api/v1/stats"), ("get", "/api/v1/tickets"),
    ("get", "/api/v1/tickets/{ticket_id}"), ("get", "/api/v1/bills"), ("get", "/api/v1/bills/{bill_id}"),
}


@pytest.fixture(scope="module")
def fuzz_headers(stack: EmbeddedStack) -> dict[str, str]:
    tenant = create_test_tenant(stack, new_slug("fuzz"), **WITHOUT_SMTP)
    with stack.rt.db.tenant_session(tenant) as session:
        dataset.build(session)
    token = create_token(stack.rt.db, tenant, "fuzz", list(SCOPES), created_by="test").token
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def unlimited(stack: EmbeddedStack, monkeypatch: pytest.MonkeyPatch) -> None:
    # The fuzzer makes more requests per minute than the default limit allows one token.
    relaxed = msgspec.structs.replace(stack.rt.settings, api_rate_limit_per_minute=1_000_000)
    monkeypatch.setattr(runtime, "_current", dataclasses.replace(stack.rt, settings=relaxed))


@pytest.fixture
def api_schema(stack: EmbeddedStack) -> Any:
    return schemathesis.openapi.from_url(f"{stack.base_url}/api/v1/schema")


@pytest.fixture
def client(stack: EmbeddedStack) -> Iterator[httpx.Client]:
    with web_client(stack) as http:
        yield http


def test_schema_lists_only_api_operations(client: httpx.Client) -> None:
    response = client.get("/api/v1/schema")

    assert response.status_code == 200
    document = response.json()
    operations = {(method, path) for path, item in document["paths"].items() for method in item}
    assert operations == API_OPERATIONS
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert client.get("/schema").status_code == 404


def test_schema_documents_problems(client: httpx.Client) -> None:
    document = client.get("/api/v1/schema").json()

    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status in ("400", "401", "403", "429"):
                content = operation["responses"][status]["content"]
                assert list(content) == ["application/problem+json"], f"{method} {path} {status}"


@pytest.mark.usefixtures("unlimited")
@pytest.mark.parametrize(("method", "path"), sorted(API_OPERATIONS))
def test_operation_conforms_to_schema(api_schema: Any, fuzz_headers: dict[str, str], method: str, path: str) -> None:
    # Each operation runs under Hypothesis directly: schemathesis 4.32's pytest integration reads a
    # private attribute that pytest 9.2 no longer has.
    operation = api_schema[path][method.upper()]

    @given(case=operation.as_strategy())
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def call(case: Any) -> None:
        case.call_and_validate(headers=fuzz_headers, checks=CHECKS)

    call()
