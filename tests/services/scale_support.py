"""A scale-out run: every process kind as its own OS process, one bulk flow from SFTP to SMS, readers.

Shared by the scale-out test (2,000 bills) and ``bench/scale.py`` (20,000). :class:`Cluster` starts
``bolletta sftp serve``, N ``bolletta serve``, N ``bolletta worker`` and one ``bolletta scheduler``
on one PostgreSQL database and one Redis namespace. :func:`run_flow` uploads a bulk FatturaPA flow
over SFTP, waits for its test batch, approves it and presses "Avvia inoltro" as a platform admin.
Meanwhile :class:`Readers` open the customer links the fake SMS gateway receives, each on one web
process and its summary page on another. :func:`check_once` then counts bills, tickets, sends and
link openings, and :func:`scrape` reads ``/metrics`` of every web process.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Bill, Event, Job, JobTransition, Message, Ticket
from bolletta.platform.demo.bulk_flow import bulk_document_number, write_bulk_flow
from bolletta.platform.demo.run import upload_over_sftp
from bolletta.platform.jobs import approval, states
from bolletta.platform.runtime import Runtime
from bolletta.tenants.accounts import create_sftp_account
from tests.fakes.skebby import FakeSkebby
from tests.integration.dispatch.support import ADMIN
from tests.integration.stack_support import LINK_PATTERN
from tests.services.dispatch_support import REPO_ROOT, SECRET, free_port, new_tenant

TENANT = "scala"
SFTP_USERNAME = "scala-flussi"
T = TypeVar("T")

TEST_MARKER = "[TEST]"
"""Prefix of the test batch's texts; those links are the staff's, not the customers'."""


@dataclass
class Cluster:
    """The platform's processes for one run; :meth:`stop` ends each with SIGTERM."""

    rt: Runtime
    folder: Path
    webs: int = 2
    workers: int = 2
    worker_threads: int = 8
    sftp_port: int = field(default_factory=free_port)
    web_ports: list[int] = field(default_factory=list)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    """Further ``BOLLETTA_*`` variables for every process, such as the database pool's settings."""

    @property
    def web_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.web_ports]

    def start(self, timeout: float = 90.0) -> None:
        """Start every process and wait until each is ready: web health checks, the others' start lines."""
        self.web_ports = [free_port() for _ in range(self.webs)]
        commands: dict[str, list[str]] = {"sftp": ["sftp", "serve", "--port", str(self.sftp_port)]}
        for number in range(1, self.webs + 1):
            commands[f"web{number}"] = ["serve"]
        for number in range(1, self.workers + 1):
            commands[f"worker{number}"] = ["worker", "--threads", str(self.worker_threads)]
        commands["scheduler"] = ["scheduler"]
        for name, arguments in commands.items():
            port = self.web_ports[int(name[3:]) - 1] if name.startswith("web") else None
            self.processes[name] = self._spawn(name, arguments, port)
        deadline = time.monotonic() + timeout
        for name in self.processes:
            while not self._ready(name):
                if time.monotonic() > deadline:
                    raise AssertionError(f"process {name} not ready within {timeout} s; log:\n{self.log_tail(name)}")
                time.sleep(0.2)

    def _spawn(self, name: str, arguments: list[str], http_port: int | None) -> subprocess.Popen[bytes]:
        settings = self.rt.settings
        env = {key: value for key, value in os.environ.items() if not key.startswith("BOLLETTA_")}
        base_url = self.web_urls[0]
        env |= {
            "BOLLETTA_DATABASE_URL": settings.database_url, "BOLLETTA_BROKER_URL": settings.broker_url,
            "BOLLETTA_BROKER_NAMESPACE": settings.broker_namespace, "BOLLETTA_SECRET_KEY": SECRET,
            "BOLLETTA_DATA_DIR": settings.data_dir, "BOLLETTA_TENANT_PATH_PREFIX": "true",
            "BOLLETTA_COOKIE_SECURE": "false", "BOLLETTA_PUBLIC_BASE_URL": base_url,
            "BOLLETTA_PLATFORM_HOST": base_url.removeprefix("http://"), "BOLLETTA_OPERATIONS_EMAIL": "",
            "BOLLETTA_HTTP_HOST": "127.0.0.1", "BOLLETTA_HTTP_PORT": str(http_port or 0),
            "BOLLETTA_SFTP_HOST": "127.0.0.1", "BOLLETTA_SCHEDULER_INTERVAL_SECONDS": "5",
            "PYTHONUNBUFFERED": "1",
        } | self.environment
        log = open(self.folder / f"{name}.log", "ab")  # noqa: SIM115 (the process owns it until stop)
        return subprocess.Popen([sys.executable, "-m", "bolletta", *arguments], cwd=REPO_ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT)

    def _ready(self, name: str) -> bool:
        process = self.processes[name]
        if process.poll() is not None:
            raise AssertionError(f"process {name} exited with {process.returncode}; log:\n{self.log_tail(name)}")
        if name.startswith("web"):
            try:
                return httpx.get(f"{self.web_urls[int(name[3:]) - 1]}/health/live", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False
        banners = {"sftp": "SFTP server listening", "scheduler": "Scheduler running"}
        banner = "Worker running" if name.startswith("worker") else banners[name]
        return banner in (self.folder / f"{name}.log").read_text(errors="replace")

    def log_tail(self, name: str, lines: int = 30) -> str:
        return "\n".join((self.folder / f"{name}.log").read_text(errors="replace").splitlines()[-lines:])

    def errors_logged(self) -> dict[str, list[str]]:
        """Lines at ERROR level or with a traceback, by process, from every log.

        paramiko's transport logs the SFTP client's closing of its socket at ERROR level
        ("Socket exception: Connection reset by peer"), so its lines are left out.
        """
        found: dict[str, list[str]] = {}
        for name in self.processes:
            lines = (self.folder / f"{name}.log").read_text(errors="replace").splitlines()
            bad = [line for line in lines
                   if (" ERROR " in line or line.startswith("Traceback")) and "paramiko.transport" not in line]
            if bad:
                found[name] = bad[:5]
        return found

    def stop(self) -> dict[str, int]:
        """Send SIGTERM to every process, wait, and return each exit code."""
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        codes: dict[str, int] = {}
        for name, process in self.processes.items():
            try:
                codes[name] = process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                codes[name] = process.wait(timeout=10)
        return codes


@contextmanager
def running_cluster(rt: Runtime, folder: Path, *, webs: int = 2, workers: int = 2, worker_threads: int = 8,
                    environment: dict[str, str] | None = None) -> Iterator[Cluster]:
    """Start a :class:`Cluster` and stop it on exit."""
    cluster = Cluster(rt, folder, webs=webs, workers=workers, worker_threads=worker_threads,
                      environment=environment or {})
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def create_scale_tenant(rt: Runtime, fake: FakeSkebby) -> str:
    """The tenant of the run: one SMS per bill through the fake Skebby (e-mail only as a fallback)."""
    new_tenant(rt, TENANT, channel_plugins={"sms": "skebby", "email": "outbox", "whatsapp": "outbox"},
               enabled_channels=["skebby", "outbox"], channel_settings={"skebby": fake.settings()},
               channel_mode="priority", channel_priority=["sms", "email"], test_batch_size=2)
    return TENANT


@dataclass
class Stage:
    """One stage's count of items and seconds."""

    items: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else float("inf")


@dataclass
class FlowResult:
    """What one run produced: the job, the stages' timings and the readers' outcome."""

    job_id: int
    stages: dict[str, Stage]
    reads: ReadResult


def run_flow(rt: Runtime, cluster: Cluster, fake: FakeSkebby, folder: Path, *, bills: int, readers: int,
             links: int, timeout: float = 600.0, read_timeout: float = 60.0) -> FlowResult:
    """Upload ``bills`` bills over SFTP and take them to ``dispatched`` while ``readers`` open the first
    ``links`` customer links as the fake gateway receives them."""
    password = secrets.token_urlsafe(16)
    create_sftp_account(rt.db, TENANT, SFTP_USERNAME, password)
    archive = folder / "flusso-bollette.zip"
    write_bulk_flow(archive, bills)

    uploaded_at = clock.now()
    upload_over_sftp("127.0.0.1", cluster.sftp_port, SFTP_USERNAME, password, archive.name, archive.read_bytes())
    job_id = _wait(lambda: _latest_job(rt), timeout, "no job was opened by the SFTP upload")
    state = _wait(lambda: _state_in(rt, job_id, {states.TEST_SENT, states.FAILED}), timeout,
                  f"job {job_id} did not reach test_sent")
    assert state == states.TEST_SENT, f"job {job_id} is {state}: {_report(rt, job_id)}"
    approval.approve(rt, TENANT, job_id, ADMIN)

    feed = LinkFeed(fake, expected=min(links, bills))
    reading = Readers(cluster.web_urls, feed, readers, read_timeout)
    reader_thread = threading.Thread(target=reading.run, name="readers", daemon=True)
    approval.start_dispatch(rt, TENANT, job_id, ADMIN)
    reader_thread.start()
    _wait(lambda: _state_in(rt, job_id, {states.DISPATCHED}), timeout, f"job {job_id} was not dispatched")
    reader_thread.join(timeout)
    assert not reader_thread.is_alive(), f"the readers did not finish within {timeout} s"

    with rt.db.tenant_session(TENANT) as session:
        job = session.get_one(Job, job_id)
        parsed_at = session.scalar(select(func.max(JobTransition.at)).where(
            JobTransition.job_id == job_id, JobTransition.to_state == states.PARSED))
        last_ticket = session.scalar(select(func.max(Ticket.created_at)).where(
            Ticket.job_id == job_id, Ticket.is_test.is_(False)))
        started_at, finished_at = job.started_at, job.finished_at
    assert parsed_at is not None, f"job {job_id} has no transition to parsed"
    assert last_ticket is not None, f"job {job_id} has no customer ticket"
    assert started_at is not None and finished_at is not None, f"job {job_id} has no start or finish time"
    stages = {
        "ingest": Stage(bills, _seconds(uploaded_at, parsed_at)),
        "tickets": Stage(bills, _seconds(started_at, last_ticket)),
        "dispatch": Stage(bills, _seconds(started_at, finished_at)),
        "reads": Stage(reading.result.requests, reading.result.seconds),
    }
    return FlowResult(job_id=job_id, stages=stages, reads=reading.result)


def _seconds(start: datetime, end: datetime) -> float:
    return max(0.0, (clock.as_utc(end) - clock.as_utc(start)).total_seconds())


def _wait(probe: Callable[[], T | None], timeout: float, failure: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{failure} within {timeout} s")
        time.sleep(0.2)


def _latest_job(rt: Runtime) -> int | None:
    with rt.db.tenant_session(TENANT) as session:
        return session.scalar(select(Job.id).order_by(Job.id.desc()).limit(1))


def _state_in(rt: Runtime, job_id: int, wanted: set[str]) -> str | None:
    with rt.db.tenant_session(TENANT) as session:
        state = session.scalar(select(Job.state).where(Job.id == job_id))
    return state if state in wanted else None


def _report(rt: Runtime, job_id: int) -> object:
    with rt.db.tenant_session(TENANT) as session:
        return session.get_one(Job, job_id).report


class LinkFeed:
    """Customer links from the fake gateway's orders, each handed to exactly one reader."""

    def __init__(self, fake: FakeSkebby, expected: int) -> None:
        self.fake = fake
        self.expected = expected
        self.links: list[str] = []
        self.handed = 0
        self._scanned = 0

    @property
    def done(self) -> bool:
        """Whether every expected link was handed out."""
        return self.handed >= self.expected

    def take(self) -> str | None:
        """Return the path of the next unread link, or ``None`` when none is available yet."""
        if self.done:
            return None
        if self.handed >= len(self.links):
            with self.fake.order_lock:
                orders = list(self.fake.orders.values())[self._scanned:]
            self._scanned += len(orders)
            for order in orders:
                match = LINK_PATTERN.search(order.text)
                if match and not order.text.startswith(TEST_MARKER):
                    self.links.append(httpx.URL(match.group(0)).path)
        if self.handed >= len(self.links):
            return None
        self.handed += 1
        return self.links[self.handed - 1]


@dataclass
class ReadResult:
    """The readers' outcome: requests made, links opened, seconds, and every failed request."""

    requests: int = 0
    opened: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


class Readers:
    """``count`` concurrent customers: each opens a link on one web process and its summary on the next."""

    IDLE_LIMIT_SECONDS = 120.0
    """How long the readers wait for a new link before they give up and report it."""

    def __init__(self, web_urls: list[str], feed: LinkFeed, count: int, timeout: float = 60.0) -> None:
        self.web_urls = web_urls
        self.timeout = timeout
        self.feed = feed
        self.count = count
        self.result = ReadResult()

    def run(self) -> None:
        started = time.monotonic()
        try:
            asyncio.run(self._all())
        except Exception as exc:  # noqa: BLE001 (reported with the other failures, so the test names it)
            self.result.errors.append(f"readers stopped: {exc!r}")
        self.result.seconds = time.monotonic() - started

    async def _all(self) -> None:
        await asyncio.gather(*(self._reader(number) for number in range(self.count)))

    async def _reader(self, number: int) -> None:
        # A new connection per request: a kept-alive connection that the server closes after its idle
        # timeout fails the next request on it, a race of the client that browsers hide by retrying.
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(timeout=self.timeout, limits=limits) as client:
            await self._read_links(number, client)

    async def _read_links(self, number: int, client: httpx.AsyncClient) -> None:
        idle_since = time.monotonic()
        visit = number
        while not self.feed.done:
            path = self.feed.take()
            if path is None:
                if time.monotonic() - idle_since > self.IDLE_LIMIT_SECONDS:
                    self.result.errors.append(f"reader {number}: no new link for {self.IDLE_LIMIT_SECONDS:g} s")
                    return
                await asyncio.sleep(0.05)
                continue
            idle_since = time.monotonic()
            visit += 1
            await self._visit(client, path, self.web_urls[visit % len(self.web_urls)],
                              self.web_urls[(visit + 1) % len(self.web_urls)])

    async def _visit(self, client: httpx.AsyncClient, path: str, first: str, second: str) -> None:
        # Each visit is a new customer, so the summary's session comes from this link alone.
        client.cookies.clear()
        try:
            opened = await client.get(first + path)
            self.result.requests += 1
            if opened.status_code != 303:
                self.result.errors.append(f"GET /c/{TENANT}/t/<token> on {first}: HTTP {opened.status_code}")
                return
            summary = await client.get(second + opened.headers["location"])
            self.result.requests += 1
            if summary.status_code != 200:
                self.result.errors.append(f"GET summary on {second}: HTTP {summary.status_code}")
                return
            self.result.opened += 1
        except httpx.HTTPError as exc:
            self.result.errors.append(f"request on {first} or {second} failed: {exc!r}")


@dataclass
class OnceCheck:
    """Counts of the run compared with what exactly once requires; ``problems`` is empty when all hold."""

    bills: int
    tickets: int
    messages: int
    sends: int
    links_opened: int
    problems: list[str]


def check_once(rt: Runtime, fake: FakeSkebby, job_id: int, bills: int, opened: int) -> OnceCheck:
    """Check every bill stored once, one ticket and one sent message per bill, one send per message
    in the fake gateway's log, and one ``link_opened`` event per link the readers opened."""
    problems: list[str] = []
    with rt.db.tenant_session(TENANT) as session:
        numbers = list(session.scalars(select(Bill.document_number).where(Bill.job_id == job_id)))
        tickets = session.execute(select(Ticket.id, Ticket.bill_id, Ticket.channel).where(
            Ticket.job_id == job_id, Ticket.is_test.is_(False))).all()
        messages = session.execute(
            select(Message.idempotency_key, Message.status).join(Ticket, Ticket.id == Message.ticket_id)
            .where(Ticket.job_id == job_id, Ticket.is_test.is_(False))).all()
        test_keys = set(session.scalars(
            select(Message.idempotency_key).join(Ticket, Ticket.id == Message.ticket_id)
            .where(Ticket.job_id == job_id, Ticket.is_test.is_(True))))
        opened_events = session.execute(
            select(func.count(Event.id), func.count(func.distinct(Event.ticket_id)))
            .join(Ticket, Ticket.id == Event.ticket_id)
            .where(Ticket.job_id == job_id, Ticket.is_test.is_(False), Event.kind == "link_opened")).one()

    expected_numbers = {bulk_document_number(index) for index in range(bills)}
    if len(numbers) != bills or set(numbers) != expected_numbers:
        problems.append(f"bills: {len(numbers)} stored, {len(set(numbers))} distinct numbers; expected {bills}")
    if len(tickets) != bills or len({bill_id for _, bill_id, _ in tickets}) != bills:
        problems.append(f"tickets: {len(tickets)} for {len({row[1] for row in tickets})} bills; expected one each")
    if {channel for _, _, channel in tickets} != {"sms"}:
        problems.append(f"tickets on channels {sorted({row[2] for row in tickets})}; expected sms only")
    statuses: dict[str, int] = {}
    for _, status in messages:
        statuses[status] = statuses.get(status, 0) + 1
    if statuses != {"sent": bills}:
        problems.append(f"messages by status {statuses}; expected {{'sent': {bills}}}")
    customer_keys = {key for key, _ in messages}
    duplicates = {key: count for key, count in fake.accepted.items() if count != 1}
    if duplicates:
        problems.append(f"{len(duplicates)} messages sent more than once, e.g. {next(iter(duplicates.items()))}")
    missing = customer_keys - set(fake.accepted)
    unknown = set(fake.accepted) - customer_keys - test_keys
    if missing or unknown:
        problems.append(f"gateway log: {len(missing)} messages never sent, {len(unknown)} sends of unknown messages")
    if tuple(opened_events) != (opened, opened):
        problems.append(f"link_opened events {opened_events[0]} on {opened_events[1]} tickets; "
                        f"expected {opened} on {opened}")
    return OnceCheck(bills=len(numbers), tickets=len(tickets), messages=len(messages),
                     sends=sum(fake.accepted[key] for key in customer_keys), links_opened=opened_events[0],
                     problems=problems)


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
"""Metric samples: (sample name, labels) to value."""


def scrape(url: str) -> Samples:
    """Read ``/metrics`` of one web process: (sample name, labels) to value."""
    response = httpx.get(f"{url}/metrics", timeout=30)
    response.raise_for_status()
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples}



def describe(result: FlowResult) -> str:
    """Format each stage's throughput, one line per stage."""
    units = {"reads": "requests"}
    return "\n".join(f"{name:<14} {stage.items:>7} {units.get(name, 'bills'):<8} in {stage.seconds:7.1f} s: "
                     f"{stage.rate:8.1f}/s" for name, stage in result.stages.items())
