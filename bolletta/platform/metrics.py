"""Prometheus metrics: HTTP latency by route, and the platform's figures read from the database.

Litestar's Prometheus middleware times every request, labelled with the route's path template
(``/c/{slug}/t/{token}``, never the token itself). The platform's own figures (task queue depth and
age, jobs by state, bills ingested, parse time) are read from the tenants' tables when Prometheus
scrapes ``/metrics``, so every web process reports the same numbers whichever worker did the work.
The readings are cached for a few seconds, so frequent scrapes cost one round of queries.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Job, JobTransition, OutboxTask
from bolletta.platform.jobs import states
from bolletta.platform.runtime import Runtime
from bolletta.platform.web.context import rt
from bolletta.tenants.registry import all_tenant_slugs

CACHE_SECONDS = 10.0

HTTP_METRICS = PrometheusConfig(
    app_name="bolletta", prefix="bolletta_http", group_path=True, exclude_unhandled_paths=True,
    exclude=["/metrics", "/health/"],
)
"""The request-timing middleware's settings; ``group_path`` labels by route template."""


@dataclass
class TenantFigures:
    """One tenant's readings for the gauges."""

    waiting_tasks: int = 0
    queued_tasks: int = 0
    oldest_task_age: float = 0.0
    jobs_by_state: dict[str, int] = field(default_factory=dict)
    bills_last_24h: int = 0
    last_parse_seconds: float | None = None


def read_figures(runtime: Runtime) -> dict[str, TenantFigures]:
    """Read every tenant's figures from its tables."""
    now = clock.now()
    figures: dict[str, TenantFigures] = {}
    for slug in all_tenant_slugs(runtime.db):
        tenant = TenantFigures()
        with runtime.db.tenant_session(slug) as session:
            tenant.waiting_tasks = session.scalar(
                select(func.count(OutboxTask.id)).where(OutboxTask.sent_at.is_(None))) or 0
            tenant.queued_tasks = session.scalar(select(func.count(OutboxTask.id)).where(
                OutboxTask.sent_at.is_not(None), OutboxTask.done_at.is_(None))) or 0
            oldest = session.scalar(select(func.min(OutboxTask.created_at)).where(OutboxTask.done_at.is_(None)))
            if oldest is not None:
                tenant.oldest_task_age = max(0.0, (now - clock.as_utc(oldest)).total_seconds())
            tenant.jobs_by_state = {state: count for state, count in session.execute(
                select(Job.state, func.count(Job.id)).group_by(Job.state))}
            tenant.bills_last_24h = session.scalar(select(func.coalesce(func.sum(Job.bills_accepted), 0)).where(
                Job.created_at >= now - timedelta(hours=24))) or 0
            tenant.last_parse_seconds = _last_parse_seconds(session)
        figures[slug] = tenant
    return figures


def _last_parse_seconds(session: Any) -> float | None:
    parsed = session.execute(
        select(JobTransition.job_id, JobTransition.at).where(JobTransition.to_state == states.PARSED)
        .order_by(JobTransition.id.desc()).limit(1)
    ).first()
    if parsed is None:
        return None
    started = session.scalar(select(func.min(JobTransition.at)).where(
        JobTransition.job_id == parsed.job_id, JobTransition.to_state == states.PARSING))
    if started is None:
        return None
    return max(0.0, (clock.as_utc(parsed.at) - clock.as_utc(started)).total_seconds())


class PlatformCollector(Collector):
    """Gauges of :func:`read_figures` for the runtime of this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cached: tuple[float, dict[str, TenantFigures]] | None = None

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """Name the gauges without reading the database (the registry calls this when registering)."""
        return self._families({})

    def collect(self) -> Iterator[GaugeMetricFamily]:
        return self._families(self._figures())

    def _families(self, figures: dict[str, TenantFigures]) -> Iterator[GaugeMetricFamily]:
        tasks = GaugeMetricFamily("bolletta_queue_tasks", "Task outbox rows not finished, by state: "
                                  "waiting (not yet sent to the broker) or queued (sent, not done).",
                                  labels=["tenant", "state"])
        age = GaugeMetricFamily("bolletta_queue_oldest_task_age_seconds",
                                "Age of the oldest unfinished task outbox row.", labels=["tenant"])
        jobs = GaugeMetricFamily("bolletta_jobs", "Jobs by state.", labels=["tenant", "state"])
        ingested = GaugeMetricFamily("bolletta_bills_ingested_last_24h",
                                     "Bills accepted by jobs opened in the last 24 hours.", labels=["tenant"])
        parse = GaugeMetricFamily("bolletta_job_parse_seconds_last",
                                  "Time from parsing to parsed of the last parsed job.", labels=["tenant"])
        for slug, tenant in figures.items():
            tasks.add_metric([slug, "waiting"], tenant.waiting_tasks)
            tasks.add_metric([slug, "queued"], tenant.queued_tasks)
            age.add_metric([slug], tenant.oldest_task_age)
            for state, count in sorted(tenant.jobs_by_state.items()):
                jobs.add_metric([slug, state], count)
            ingested.add_metric([slug], tenant.bills_last_24h)
            if tenant.last_parse_seconds is not None:
                parse.add_metric([slug], tenant.last_parse_seconds)
        yield from (tasks, age, jobs, ingested, parse)

    def _figures(self) -> dict[str, TenantFigures]:
        with self._lock:
            if self._cached is None or time.monotonic() - self._cached[0] > CACHE_SECONDS:
                self._cached = (time.monotonic(), read_figures(rt()))
            return self._cached[1]


_registered = False


def register_collector() -> None:
    """Add :class:`PlatformCollector` to the default registry once per process."""
    global _registered
    if not _registered:
        REGISTRY.register(PlatformCollector())
        _registered = True


def require_metrics_token(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    """Reject a scrape without the configured bearer token; with no token configured, allow it."""
    expected = rt().settings.metrics_token
    if not expected:
        return
    presented = connection.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(presented.encode(), expected.encode()):
        raise PermissionDeniedException("a valid metrics token is required")


class MetricsController(PrometheusController):
    """``/metrics`` in Prometheus's text format, behind :func:`require_metrics_token`."""

    path = "/metrics"
    guards = [require_metrics_token]
