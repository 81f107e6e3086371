"""Prometheus metrics: HTTP latency by route, and the platform's figures read at scrape time.

:mod:`bolletta.platform.web.http_metrics` times every request, labelled with the route's path
template (``/c/{slug}/t/{token}``, never the token itself). Those timings belong to the web
processes of one ``bolletta serve`` (summed over its processes when it runs several), so
Prometheus scrapes every ``bolletta serve``. The platform's own figures (task
queues, jobs, bills parsed, messages, payments, job durations) are read from the tenants' tables
when Prometheus scrapes ``/metrics`` (see :mod:`bolletta.platform.metric_figures` for why), so every
web process reports the same numbers whichever worker did the work. The broker's own queue depths
are read from the broker at the same time. The readings are cached for a few seconds, so frequent
scrapes cost one round of queries.
"""

from __future__ import annotations

import hmac
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litestar import Response, get
from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.plugins.prometheus import PrometheusController
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from bolletta.platform import clock, workers
from bolletta.platform.metric_figures import FAILED_STATUSES, JOB_STAGES, TenantFigures, read_figures
from bolletta.platform.queue_depth import BrokerQueue, base_queues, read_queues
from bolletta.platform.runtime import Runtime
from bolletta.platform.web import run_folders
from bolletta.platform.web.context import rt

logger = logging.getLogger(__name__)

CACHE_SECONDS = 10.0

JOB_DURATION_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0, 21600.0, 86400.0)
"""Upper bounds, in seconds, of the job stage histogram: from a small test job to a day-long dispatch."""


class PlatformCollector(Collector):
    """The figures of :mod:`bolletta.platform.metric_figures` and the broker's queue depths."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cached: tuple[float, Readings] | None = None

    def describe(self) -> Iterator[Metric]:
        """Name the metrics without reading the database (the registry calls this when registering)."""
        return _families(Readings(tenants={}, broker=[], queues=[]))

    def collect(self) -> Iterator[Metric]:
        return _families(self._readings())

    def _readings(self) -> Readings:
        with self._lock:
            if self._cached is None or time.monotonic() - self._cached[0] > CACHE_SECONDS:
                self._cached = (time.monotonic(), _read(rt()))
            return self._cached[1]


@dataclass(frozen=True)
class Readings:
    """One scrape's worth of figures."""

    tenants: dict[str, TenantFigures]
    broker: list[BrokerQueue]
    queues: list[str]
    """Queue names to report, so an idle queue shows zeros instead of vanishing."""
    actor_queues: dict[str, str] = field(default_factory=dict)


def _read(runtime: Runtime) -> Readings:
    # The configured broker, never dramatiq.get_broker(): without one set, that connects to a
    # default RabbitMQ.
    broker = workers.setup_broker(runtime.settings)
    try:
        depths = read_queues(broker)
    except Exception:  # a broker outage must not hide the database figures; /health/ready reports it
        logger.exception("metrics: reading the broker's queue depths failed")
        depths = []
    actor_queues = {name: broker.get_actor(name).queue_name for name in broker.get_declared_actors()}
    queues = sorted(set(base_queues(broker)) | set(actor_queues.values())) or ["default"]
    return Readings(tenants=read_figures(runtime), broker=depths, queues=queues, actor_queues=actor_queues)


def _families(readings: Readings) -> Iterator[Metric]:
    yield from _queue_families(readings)
    yield from _job_families(readings.tenants)
    yield from _message_families(readings.tenants)
    payments = GaugeMetricFamily("bolletta_payments", "Payments by gateway and status.",
                                 labels=["tenant", "gateway", "status"])
    for slug, tenant in readings.tenants.items():
        for (gateway, status), count in sorted(tenant.payments.items()):
            payments.add_metric([slug, gateway, status], count)
    yield payments


def _queue_families(readings: Readings) -> Iterator[Metric]:
    tasks = GaugeMetricFamily("bolletta_queue_tasks", "Task outbox rows not finished, by queue and state: "
                              "waiting (not yet sent to the broker) or queued (sent, not done).",
                              labels=["tenant", "queue", "state"])
    age = GaugeMetricFamily("bolletta_queue_oldest_task_age_seconds",
                            "Age of the oldest unfinished task outbox row of the queue (0 when none).",
                            labels=["tenant", "queue"])
    by_actor = GaugeMetricFamily("bolletta_queue_actor_tasks", "Task outbox rows not finished, by actor and "
                                 "state (only actors with unfinished rows).", labels=["tenant", "actor", "state"])
    broker = GaugeMetricFamily("bolletta_broker_queue_messages",
                               "Messages the broker holds, by queue and state (ready, delayed, dead, unacked).",
                               labels=["broker", "queue", "state"])
    now = clock.now()
    for slug, tenant in readings.tenants.items():
        per_queue: dict[str, list[Any]] = {queue: [0, 0, None] for queue in readings.queues}
        for actor, reading in sorted(tenant.outbox.items()):
            entry = per_queue.setdefault(readings.actor_queues.get(actor, "default"), [0, 0, None])
            entry[0] += reading.waiting
            entry[1] += reading.queued
            if reading.oldest is not None and (entry[2] is None or reading.oldest < entry[2]):
                entry[2] = reading.oldest
            by_actor.add_metric([slug, actor, "waiting"], reading.waiting)
            by_actor.add_metric([slug, actor, "queued"], reading.queued)
        for queue, (waiting, queued, oldest) in sorted(per_queue.items()):
            tasks.add_metric([slug, queue, "waiting"], waiting)
            tasks.add_metric([slug, queue, "queued"], queued)
            age.add_metric([slug, queue], max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
    for depth in readings.broker:
        for state, value in (("ready", depth.ready), ("delayed", depth.delayed), ("dead", depth.dead),
                             ("unacked", depth.unacked)):
            if value is not None:
                broker.add_metric([depth.broker, depth.queue, state], value)
    yield from (tasks, age, by_actor, broker)


def _job_families(tenants: dict[str, TenantFigures]) -> Iterator[Metric]:
    jobs = GaugeMetricFamily("bolletta_jobs", "Jobs by state.", labels=["tenant", "state"])
    parsed = CounterMetricFamily("bolletta_bills_parsed", "Bills accepted by parsing, over every job; "
                                 "rate() of it is the ingestion rate.", labels=["tenant"])
    rejected = CounterMetricFamily("bolletta_bills_rejected", "Bill records rejected by parsing, over every job.",
                                   labels=["tenant"])
    ingested = GaugeMetricFamily("bolletta_bills_ingested_last_24h",
                                 "Bills accepted by jobs opened in the last 24 hours.", labels=["tenant"])
    parse = GaugeMetricFamily("bolletta_job_parse_seconds_last",
                              "Time from parsing to parsed of the last parsed job.", labels=["tenant"])
    durations = HistogramMetricFamily("bolletta_job_duration_seconds", "Duration of each job's stages: parse "
                                      "(parsing to parsed), dispatch (start to dispatched), total (opened to "
                                      "dispatched).", labels=["tenant", "stage"])
    for slug, tenant in tenants.items():
        for state, count in sorted(tenant.jobs_by_state.items()):
            jobs.add_metric([slug, state], count)
        parsed.add_metric([slug], tenant.bills_parsed)
        rejected.add_metric([slug], tenant.bills_rejected)
        ingested.add_metric([slug], tenant.bills_last_24h)
        if tenant.last_parse_seconds is not None:
            parse.add_metric([slug], tenant.last_parse_seconds)
        for stage in JOB_STAGES:
            values = tenant.job_durations.get(stage, [])
            buckets = [(floatToGoString(bound), float(sum(1 for value in values if value <= bound)))
                       for bound in JOB_DURATION_BUCKETS]
            buckets.append(("+Inf", float(len(values))))
            durations.add_metric([slug, stage], buckets, sum_value=sum(values))
    yield from (jobs, parsed, rejected, ingested, parse, durations)


def _message_families(tenants: dict[str, TenantFigures]) -> Iterator[Metric]:
    sent = CounterMetricFamily("bolletta_messages_sent", "Messages a provider accepted, by channel and provider "
                               "plugin.", labels=["tenant", "channel", "provider"])
    failed = CounterMetricFamily("bolletta_messages_failed", "Messages that ended failed (reported by the "
                                 "provider) or rejected (refused by the provider, or dropped before sending).",
                                 labels=["tenant", "channel", "provider", "status"])
    current = GaugeMetricFamily("bolletta_messages", "Messages by channel, provider plugin and current status.",
                                labels=["tenant", "channel", "provider", "status"])
    for slug, tenant in tenants.items():
        for (channel, provider), counts in sorted(tenant.messages.items()):
            sent.add_metric([slug, channel, provider], counts.sent)
            for status in FAILED_STATUSES:
                failed.add_metric([slug, channel, provider, status], counts.by_status.get(status, 0))
            for status, count in sorted(counts.by_status.items()):
                current.add_metric([slug, channel, provider, status], count)
    yield from (sent, failed, current)


_registered = False
_platform_collector = PlatformCollector()


def register_collector() -> None:
    """Add :class:`PlatformCollector` to the default registry once per process."""
    global _registered
    if not _registered:
        REGISTRY.register(_platform_collector)
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
    """``/metrics`` in Prometheus's text format, behind :func:`require_metrics_token`.

    Under ``bolletta serve --processes N`` any of the processes may serve a scrape, so the request
    metrics are the sum over all of them (:func:`shared_metrics`), with the platform's figures read
    from the database as in one process.
    """

    path = "/metrics"
    guards = [require_metrics_token]

    @get()
    async def get(self) -> Response[bytes]:
        """Return the metrics of every server process, or of this one when it serves alone."""
        return Response(generate_latest(scrape_registry()), status_code=200,
                        headers={"Content-Type": CONTENT_TYPE_LATEST})


def scrape_registry() -> CollectorRegistry:
    """Return the registry a scrape reads: the process's own, or the sum over the server processes."""
    if not os.environ.get(MULTIPROCESS_VARIABLE):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    if _registered:
        registry.register(_platform_collector)
    return registry


MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
"""Environment variable naming the folder of each process's values (prometheus_client's own name)."""


@contextmanager
def shared_metrics(data_path: Path) -> Iterator[Callable[[int], None]]:
    """Make the server processes started in the block write their metrics to one folder.

    Yields the function to call with the id of each process that ended. prometheus_client reads
    ``PROMETHEUS_MULTIPROC_DIR`` when it is imported, so the variable is set here, before the
    processes start. Each run of the command uses a new folder under the data folder, removed when
    the block ends. The folders of runs killed before they could remove theirs are removed first
    (:mod:`bolletta.platform.web.run_folders`).
    """
    parent = data_path / "metrics"
    parent.mkdir(parents=True, exist_ok=True)
    run_folders.remove_stale(parent, run_folders.METRICS_FOLDER)
    folder = parent / f"serve-{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    lock = run_folders.claim(folder)
    previous = os.environ.get(MULTIPROCESS_VARIABLE)
    os.environ[MULTIPROCESS_VARIABLE] = str(folder)

    def process_ended(pid: int) -> None:
        multiprocess.mark_process_dead(pid, str(folder))  # type: ignore[no-untyped-call]

    try:
        yield process_ended
    finally:
        if previous is None:
            os.environ.pop(MULTIPROCESS_VARIABLE, None)
        else:
            os.environ[MULTIPROCESS_VARIABLE] = previous
        shutil.rmtree(folder, ignore_errors=True)
        os.close(lock)
