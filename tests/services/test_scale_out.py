"""Scale-out: 2,000 bills from SFTP to SMS with every process kind as its own OS process.

One ``bolletta sftp serve``, two ``bolletta serve``, two ``bolletta worker`` and one ``bolletta
scheduler`` share PostgreSQL and a Redis namespace. While the messages go out, 50 concurrent readers
open the first 500 customer links the fake Skebby gateway received, each link on one web process
and its summary page on the other.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from bolletta.platform.runtime import Runtime
from tests.fakes.skebby import FakeSkebby
from tests.services.dispatch_support import configure, private_broker
from tests.services.scale_support import (
    TENANT,
    FlowResult,
    Samples,
    check_once,
    create_scale_tenant,
    describe,
    run_flow,
    running_cluster,
    scrape,
)

pytestmark = pytest.mark.services
logger = logging.getLogger(__name__)

BILLS = 2_000
READERS = 50
LINKS = 500
"""Customer links the readers open (each a link and its summary page, on different web processes)."""


@pytest.fixture(scope="module")
def rt(database_url: str, broker_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    space = f"bolletta-scale-{uuid.uuid4().hex[:10]}"
    runtime = configure(database_url, broker_url, space, tmp_path_factory.mktemp("scale-data"))
    with private_broker(broker_url, space):
        yield runtime
    client = redis.Redis.from_url(broker_url)
    for key in client.scan_iter(f"{space}:*"):
        client.delete(key)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSkebby]:
    with FakeSkebby() as gateway:
        yield gateway  # type: ignore[misc]


@dataclass
class Run:
    """The run's outcome, and what was read from the processes before they stopped."""

    result: FlowResult
    scrapes: dict[str, Samples]
    errors: dict[str, list[str]]
    folder: Path


@pytest.fixture(scope="module")
def run(rt: Runtime, fake: FakeSkebby, tmp_path_factory: pytest.TempPathFactory) -> Run:
    folder = tmp_path_factory.mktemp("scale-run")
    create_scale_tenant(rt, fake)
    with running_cluster(rt, folder, webs=2, workers=2) as cluster:
        result = run_flow(rt, cluster, fake, folder, bills=BILLS, readers=READERS, links=LINKS)
        scrapes = {url: scrape(url) for url in cluster.web_urls}
        errors = cluster.errors_logged()
    logger.info("scale-out run:\n%s", describe(result))
    return Run(result=result, scrapes=scrapes, errors=errors, folder=folder)


def test_every_bill_ticket_and_send_once(rt: Runtime, fake: FakeSkebby, run: Run) -> None:
    check = check_once(rt, fake, run.result.job_id, BILLS, run.result.reads.opened)

    assert check.problems == []
    assert (check.bills, check.tickets, check.messages, check.sends) == (BILLS, BILLS, BILLS, BILLS)


def test_readers_opened_links_without_errors(run: Run) -> None:
    assert run.result.reads.errors == []
    assert run.result.reads.opened == LINKS
    assert run.result.reads.requests == 2 * LINKS


def test_web_processes_report_same_totals(fake: FakeSkebby, run: Run) -> None:
    sent = ("bolletta_messages_sent_total",
            frozenset({"tenant": TENANT, "channel": "sms", "provider": "skebby"}.items()))
    parsed = ("bolletta_bills_parsed_total", frozenset({"tenant": TENANT}.items()))

    assert len(run.scrapes) == 2
    for url, samples in run.scrapes.items():
        assert samples[sent] == len(fake.accepted), f"{url} reports {samples[sent]} SMS sent"
        assert samples[parsed] == BILLS, f"{url} reports {samples[parsed]} bills parsed"


def test_no_process_logged_errors(run: Run) -> None:
    assert run.errors == {}, f"logs in {run.folder}"
