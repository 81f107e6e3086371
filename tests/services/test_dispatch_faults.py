"""Dispatch fault tests on PostgreSQL and a private Redis with real worker processes.

A worker SIGKILLed mid-dispatch, the broker's Redis stopped for a few seconds, and a provider
answering 500 for a while: every ticket still ends with exactly one send the fake SMS gateway took.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bolletta.platform import tasks
from bolletta.platform.dispatch import sweeper
from bolletta.platform.runtime import Runtime
from tests.fakes.channel_server import make_test_ca
from tests.fakes.skebby import FakeSkebby
from tests.integration.dispatch.support import Customer, job_state, make_job, phone, start, status_counts
from tests.services.dispatch_support import (
    PrivateRedis,
    WorkerProcess,
    configure,
    namespace,
    new_tenant,
    private_broker,
    wait_for,
)

pytestmark = pytest.mark.services

OUTAGE_SECONDS = 3.0
"""How long Redis stays down in the outage test."""
FAST_SWEEP = {"claim_timeout": timedelta(seconds=5), "stale_after": timedelta(seconds=10)}


@pytest.fixture
def redis_server(tmp_path: Path, database_url: str) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path / "redis")
    server.folder.mkdir()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def rt(database_url: str, redis_server: PrivateRedis, tmp_path: Path) -> Iterator[Runtime]:
    space = namespace()
    runtime = configure(database_url, redis_server.url, space, tmp_path / "data")
    with private_broker(redis_server.url, space):
        yield runtime


@pytest.fixture
def skebby(tmp_path: Path) -> Iterator[FakeSkebby]:
    with FakeSkebby(make_test_ca(tmp_path / "ca")) as fake:
        yield fake  # type: ignore[misc]


def skebby_tenant(rt: Runtime, fake: FakeSkebby, slug: str) -> str:
    return new_tenant(rt, slug, channel_plugins={"sms": "skebby", "email": "outbox", "whatsapp": "outbox"},
                      enabled_channels=["skebby", "outbox"], channel_settings={"skebby": fake.settings()})


def finished(rt: Runtime, tenant: str, *job_ids: int) -> bool:
    return all(job_state(rt, tenant, job_id) == "dispatched" and set(status_counts(rt, tenant, job_id)) == {"sent"}
               for job_id in job_ids)


def sweep(rt: Runtime, tenant: str, **options: timedelta) -> None:
    tasks.relay_all(rt.db)
    sweeper.sweep(rt, tenant, **(FAST_SWEEP | options))


def assert_once_each(fake: FakeSkebby, count: int) -> None:
    assert len(fake.accepted) == count
    duplicates = {key: n for key, n in fake.accepted.items() if n != 1}
    assert duplicates == {}


def test_worker_killed_mid_dispatch(rt: Runtime, skebby: FakeSkebby, tmp_path: Path) -> None:
    tenant = skebby_tenant(rt, skebby, "kill")
    job_id = make_job(rt, tenant, [Customer(contacts=[("sms", phone(n))]) for n in range(2000)])
    first = WorkerProcess(rt, tmp_path / "worker1.log")
    second = None
    try:
        start(rt, tenant, job_id)
        wait_for(lambda: len(skebby.accepted) >= 400, timeout=180)
        first.kill()
        taken_at_kill = len(skebby.accepted)
        second = WorkerProcess(rt, tmp_path / "worker2.log")
        wait_for(lambda: finished(rt, tenant, job_id), timeout=300, every=2.0, between=lambda: sweep(rt, tenant))
    finally:
        first.stop()
        if second is not None:
            second.stop()

    assert taken_at_kill < 2000
    assert status_counts(rt, tenant, job_id) == {"sent": 2000}
    assert_once_each(skebby, 2000)


@pytest.mark.parametrize("outage", [OUTAGE_SECONDS])
def test_redis_outage_loses_and_repeats_nothing(rt: Runtime, skebby: FakeSkebby, redis_server: PrivateRedis,
                                                tmp_path: Path, outage: float) -> None:
    tenant = skebby_tenant(rt, skebby, "outage")
    running = make_job(rt, tenant, [Customer(contacts=[("sms", phone(n))]) for n in range(400)])
    during = make_job(rt, tenant, [Customer(contacts=[("sms", phone(1000 + n))]) for n in range(100)])
    worker = WorkerProcess(rt, tmp_path / "worker.log")
    try:
        start(rt, tenant, running)
        wait_for(lambda: len(skebby.accepted) >= 50, timeout=120)
        redis_server.stop()
        start(rt, tenant, during)  # commits its outbox row although the broker is down
        time.sleep(outage)
        redis_server.start()
        wait_for(lambda: finished(rt, tenant, running, during), timeout=300, every=2.0,
                 between=lambda: sweep(rt, tenant))
    finally:
        worker.stop()

    assert status_counts(rt, tenant, running) == {"sent": 400}
    assert status_counts(rt, tenant, during) == {"sent": 100}
    assert_once_each(skebby, 500)


def test_provider_errors_are_retried_then_the_rest_continue(rt: Runtime, skebby: FakeSkebby, tmp_path: Path) -> None:
    tenant = skebby_tenant(rt, skebby, "errors")
    job_id = make_job(rt, tenant, [Customer(contacts=[("sms", phone(n))]) for n in range(200)])
    skebby.faults.fail_next(60, 500)
    worker = WorkerProcess(rt, tmp_path / "worker.log")
    try:
        start(rt, tenant, job_id)
        wait_for(lambda: finished(rt, tenant, job_id), timeout=300, every=2.0, between=lambda: sweep(rt, tenant))
    finally:
        worker.stop()

    assert status_counts(rt, tenant, job_id) == {"sent": 200}
    assert_once_each(skebby, 200)
    assert skebby.requests >= 260


def test_rate_limit_is_shared_by_two_worker_processes(rt: Runtime, skebby: FakeSkebby, tmp_path: Path) -> None:
    settings = {"skebby": skebby.settings(max_rate=20)}
    tenant = new_tenant(rt, "rated", channel_plugins={"sms": "skebby", "email": "outbox", "whatsapp": "outbox"},
                        enabled_channels=["skebby", "outbox"], channel_settings=settings)
    job_id = make_job(rt, tenant, [Customer(contacts=[("sms", phone(n))]) for n in range(120)])
    workers = [WorkerProcess(rt, tmp_path / f"worker{n}.log") for n in range(2)]
    try:
        start(rt, tenant, job_id)
        # A batch claims its 50 messages at once and then waits for its turns at 20 a second, shared
        # by two workers. On a busy machine that passes the 5 s claim timeout of FAST_SWEEP. The worker
        # processes renew their claims only once a minute (a fifth of the default timeout), so the
        # sweep would take over messages still waiting in a live batch.
        wait_for(lambda: finished(rt, tenant, job_id), timeout=300, every=1.0,
                 between=lambda: sweep(rt, tenant, claim_timeout=timedelta(seconds=60)))
    finally:
        for worker in workers:
            worker.stop()

    per_second: dict[int, int] = {}
    for stamp in skebby.accepted_at:
        per_second[int(stamp)] = per_second.get(int(stamp), 0) + 1
    assert_once_each(skebby, 120)
    # The limiter counts sends in its own one-second buckets when it grants them; the fake stamps
    # them on arrival, later, so on a busy machine a bucket's sends can land in the next second at
    # the fake. Three seconds together may contain three buckets' worth plus half a bucket of late
    # arrivals (70). Two processes each keeping their own limit would send 40 a second, 120 in three.
    seconds = sorted(per_second)
    windows = [sum(per_second.get(second + offset, 0) for offset in range(3)) for second in seconds]
    assert max(windows) <= 70
    assert len(per_second) >= 6
