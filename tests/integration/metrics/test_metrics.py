"""``/metrics``: request timings by route template, the platform's gauges, the scrape token; server errors logged."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import msgspec
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bolletta.platform.demo.tenant import DEMO_SLUG
from bolletta.platform.portal import routes as portal_routes
from bolletta.platform.stack import EmbeddedStack
from bolletta.platform.tokens import random_base62
from tests.integration.stack_support import create_test_tenant, run_to_test_sent, running_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    with running_stack(tmp_path_factory.mktemp("data")) as running:
        yield running


Samples = dict[str, list[tuple[dict[str, str], float]]]


def _samples(stack: EmbeddedStack, headers: dict[str, str] | None = None) -> Samples:
    response = httpx.get(f"{stack.base_url}/metrics", headers=headers or {})
    assert response.status_code == 200, response.text
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def _value(samples: Samples, name: str, **labels: str) -> float:
    matches = [value for sample_labels, value in samples.get(name, []) if labels.items() <= sample_labels.items()]
    assert len(matches) == 1, f"{name} {labels}: {samples.get(name)}"
    return matches[0]


def test_job_gauges_follow_the_job(stack: EmbeddedStack) -> None:
    tenant = create_test_tenant(stack, "metrica")
    run_to_test_sent(stack, tenant)

    samples = _samples(stack)

    assert _value(samples, "bolletta_jobs", tenant=tenant, state="test_sent") == 1
    assert _value(samples, "bolletta_bills_ingested_last_24h", tenant=tenant) > 0
    assert _value(samples, "bolletta_queue_tasks", tenant=tenant, queue="default", state="waiting") == 0
    assert _value(samples, "bolletta_queue_tasks", tenant=tenant, queue="speech", state="waiting") == 0
    assert _value(samples, "bolletta_job_parse_seconds_last", tenant=tenant) >= 0


def test_request_timed_by_route_template(stack: EmbeddedStack) -> None:
    token = random_base62()
    httpx.get(f"{stack.base_url}/c/{DEMO_SLUG}/t/{token}")

    response = httpx.get(f"{stack.base_url}/metrics")

    assert "bolletta_http_request_duration_seconds" in response.text
    assert 'path="/c/{slug}/t/{token}"' in response.text
    assert token not in response.text


def test_token_required_when_configured(stack: EmbeddedStack, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = msgspec.structs.replace(stack.rt.settings, metrics_token="segreto-di-prometheus")
    monkeypatch.setattr(stack.rt, "settings", settings)

    without = httpx.get(f"{stack.base_url}/metrics")
    wrong = httpx.get(f"{stack.base_url}/metrics", headers={"Authorization": "Bearer altro"})

    assert without.status_code == 403
    assert wrong.status_code == 403
    assert _samples(stack, {"Authorization": "Bearer segreto-di-prometheus"})


def test_server_error_logged_without_token(
    stack: EmbeddedStack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(*_args: object) -> None:
        raise RuntimeError("database went away")

    tenant = create_test_tenant(stack, "guasto")
    monkeypatch.setattr(portal_routes, "_record_link_opened", broken)
    token = random_base62()

    with caplog.at_level(logging.ERROR, logger="bolletta.platform.app"):
        response = httpx.get(f"{stack.base_url}/c/{tenant}/t/{token}")

    assert response.status_code == 500
    logged = [record.getMessage() for record in caplog.records if record.name == "bolletta.platform.app"]
    assert logged == ["HTTP 500: builtins.RuntimeError on GET /c/{slug:str}/t/{token:str}"]
    assert token not in caplog.text
    counted = _samples(stack)["bolletta_http_requests_total"]
    assert any(labels["status_code"] == "500" and labels["path"] == "/c/{slug}/t/{token}" for labels, _ in counted)
