"""The page view writer process of ``bolletta serve --processes N``, on SQLite, with a real spawned process."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY, CollectorRegistry, multiprocess
from sqlalchemy import func, select

from bolletta.platform import clock, runtime
from bolletta.platform.db import migrate
from bolletta.platform.db.models.tenant import Event, Ticket
from bolletta.platform.metrics import MULTIPROCESS_VARIABLE, shared_metrics
from bolletta.platform.portal import view_writer_process
from bolletta.platform.portal.view_events import PageView, ViewWriter
from bolletta.platform.portal.view_relay import Relay, frame
from bolletta.platform.runtime import Runtime
from bolletta.platform.settings import load_settings
from bolletta.tenants.registry import create_tenant
from tests.integration.privacy.people import add_customer

TENANT = "vista"


@pytest.fixture
def rt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    """A SQLite runtime whose settings the spawned writer reads from the environment too.

    The current runtime is restored afterwards: the other portal tests' demo stack serves from it.
    """
    monkeypatch.setattr(runtime, "_current", runtime._current)
    for name, value in {"BOLLETTA_DATA_DIR": str(tmp_path / "data"), "BOLLETTA_DATABASE_URL": "",
                        "BOLLETTA_BROKER_URL": "", "BOLLETTA_SECRET_KEY": "w" * 48}.items():
        monkeypatch.setenv(name, value)
    configured = runtime.configure(load_settings())
    migrate.upgrade_platform(configured.db)
    create_tenant(configured.db, TENANT, "Vista Energia")
    yield configured
    configured.db.dispose()


def _views(rt: Runtime, code: str, count: int) -> tuple[int, list[PageView]]:
    customer = add_customer(rt, TENANT, code, "RSSMRA80A01H501U")
    ticket_id = customer.ticket_ids[0]
    with rt.db.tenant_session(TENANT) as session:
        ticket = session.get_one(Ticket, ticket_id)
        channel, bill_id = ticket.channel, ticket.bill_id
    return ticket_id, [PageView(tenant=TENANT, ticket_id=ticket_id, bill_id=bill_id, channel=channel, at=clock.now(),
                                section="consumi", language="de", switched=index == 0, first_view=True)
                       for index in range(count)]


def _section_views(rt: Runtime, ticket_id: int) -> int:
    with rt.db.tenant_session(TENANT) as session:
        return session.scalar(select(func.count()).select_from(Event).where(
            Event.ticket_id == ticket_id, Event.kind == "section_viewed")) or 0


def _wait_for(condition: object, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {seconds:.0f} s")
        time.sleep(0.05)


def _send(rt: Runtime, relay: Relay, views: list[PageView]) -> None:
    async def record_then_flush() -> None:
        writer = ViewWriter(rt, relay)
        for view in views:
            writer.record(view)
        await writer.flush()
        relay.close()

    asyncio.run(record_then_flush())


def _written_here(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the number of views this process writes itself, instead of the writer process."""
    written: list[int] = []
    original = ViewWriter._write_tenant_views

    def counting(self: ViewWriter, tenant: str, views: list[PageView], committed: list[bool]) -> None:
        written.append(len(views))
        original(self, tenant, views, committed)

    monkeypatch.setattr(ViewWriter, "_write_tenant_views", counting)
    return written


def test_views_written_by_writer_process(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    ticket_id, views = _views(rt, "VW001", 5)
    written_here = _written_here(monkeypatch)

    with view_writer_process.running(logging.WARNING) as path:
        _wait_for(lambda: Path(path).exists())
        _send(rt, Relay(path), views)
        _wait_for(lambda: _section_views(rt, ticket_id) == 5)

    assert written_here == []
    with rt.db.tenant_session(TENANT) as session:
        kinds = list(session.scalars(select(Event.kind).where(Event.ticket_id == ticket_id)))
        assert session.get_one(Ticket, ticket_id).first_viewed_at is not None
    assert kinds.count("section_viewed") == 5
    assert kinds.count("language_changed") == 1


def test_views_received_before_stop_written(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer stopped right after receiving a batch writes it before it ends."""
    ticket_id, views = _views(rt, "VW002", 40)
    written_here = _written_here(monkeypatch)

    with view_writer_process.running(logging.WARNING) as path:
        _wait_for(lambda: Path(path).exists())
        _send(rt, Relay(path), views)

    assert written_here == []
    assert _section_views(rt, ticket_id) == 40
    assert not Path(path).parent.exists()


def test_stop_reads_open_connection(rt: Runtime) -> None:
    """A frame still unread when the writer stops, on a connection left open, is written."""
    ticket_id, views = _views(rt, "VW006", 12)

    with socket.socket(socket.AF_UNIX) as server_process:
        with view_writer_process.running(logging.WARNING) as path:
            _wait_for(lambda: Path(path).exists())
            server_process.connect(path)
            server_process.sendall(frame(views))

        assert _section_views(rt, ticket_id) == 12


def test_unreachable_writer_views_written_here(rt: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    ticket_id, views = _views(rt, "VW003", 3)
    written_here = _written_here(monkeypatch)
    relay = Relay(str(tmp_path / "no-writer.sock"))

    with caplog.at_level(logging.WARNING, logger="bolletta.platform.portal.view_relay"):
        _send(rt, relay, views)

    assert written_here == [3]
    assert _section_views(rt, ticket_id) == 3
    assert "page view writer unreachable" in caplog.text
    assert relay.failing


def test_killed_writer_started_again(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    ticket_id, views = _views(rt, "VW004", 2)
    written_here = _written_here(monkeypatch)

    with view_writer_process.running(logging.WARNING) as path:
        _wait_for(lambda: Path(path).exists())
        first = multiprocessing.active_children()
        assert len(first) == 1
        os.kill(first[0].pid, 9)
        _wait_for(lambda: [child.pid for child in multiprocessing.active_children()] not in ([], [first[0].pid]))
        _wait_for(lambda: _accepts(path))
        _send(rt, Relay(path), views)
        _wait_for(lambda: _section_views(rt, ticket_id) == 2)

    assert written_here == []


def test_garbage_frame_refused_writer_goes_on(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    ticket_id, views = _views(rt, "VW005", 4)
    written_here = _written_here(monkeypatch)

    with view_writer_process.running(logging.WARNING) as path:
        _wait_for(lambda: Path(path).exists())
        with socket.socket(socket.AF_UNIX) as intruder:
            intruder.connect(path)
            intruder.sendall((2**31).to_bytes(4, "big") + b"x" * 64)
            intruder.settimeout(10)
            assert intruder.recv(1) == b""  # the writer closed the connection
        with socket.socket(socket.AF_UNIX) as intruder:
            intruder.connect(path)
            intruder.sendall((5).to_bytes(4, "big") + b"\xc1\xc1\xc1\xc1\xc1")
            intruder.settimeout(10)
            assert intruder.recv(1) == b""
        _send(rt, Relay(path), views)
        _wait_for(lambda: _section_views(rt, ticket_id) == 4)

    assert written_here == []


def _accepts(path: str) -> bool:
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(path)
        except OSError:
            return False
    return True


def _shared_samples(folder: Path) -> dict[str, float]:
    """Read the values the processes wrote to the shared metrics folder, as a scrape sums them."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, str(folder))  # type: ignore[no-untyped-call]
    return {sample.name + "".join(f"/{value}" for value in sample.labels.values()): sample.value
            for family in registry.collect() for sample in family.samples}


def test_writer_metrics_count_views_and_restarts(rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer's counters survive its SIGKILL, and the killed writer no longer counts as up."""
    ticket_id, views = _views(rt, "VW007", 6)
    relayed_before = REGISTRY.get_sample_value("bolletta_page_views_relayed_total") or 0.0
    monkeypatch.delenv(MULTIPROCESS_VARIABLE, raising=False)

    with shared_metrics(tmp_path / "metrics-data") as process_ended, \
            view_writer_process.running(logging.WARNING, process_ended) as path:
        folder = Path(os.environ[MULTIPROCESS_VARIABLE])
        _wait_for(lambda: _accepts(path))
        _send(rt, Relay(path), views[:4])
        _wait_for(lambda: _section_views(rt, ticket_id) == 4)
        _wait_for(lambda: _shared_samples(folder).get("bolletta_page_views_written_total/view_writer") == 4)
        first = _shared_samples(folder)

        killed = multiprocessing.active_children()[0]
        assert killed.pid is not None
        os.kill(killed.pid, 9)
        _wait_for(lambda: [child.pid for child in multiprocessing.active_children()] not in ([], [killed.pid]))
        _wait_for(lambda: _accepts(path))
        _send(rt, Relay(path), views[4:])
        _wait_for(lambda: _section_views(rt, ticket_id) == 6)
        _wait_for(lambda: _shared_samples(folder).get("bolletta_page_views_written_total/view_writer") == 6)
        second = _shared_samples(folder)

    assert first["bolletta_view_writer_starts_total"] == 1
    assert first["bolletta_view_writer_up"] == 1
    assert second["bolletta_view_writer_starts_total"] == 2
    assert second["bolletta_view_writer_up"] == 1, "the killed writer still counts as up"
    assert REGISTRY.get_sample_value("bolletta_page_views_relayed_total") == relayed_before + 6
    assert not folder.exists()


def test_unreachable_writer_counted_as_fallback(rt: Runtime, tmp_path: Path) -> None:
    ticket_id, views = _views(rt, "VW008", 3)

    def sample(name: str, labels: dict[str, str] | None = None) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = (sample("bolletta_page_views_fallback_total"),
              sample("bolletta_page_views_written_total", {"writer": "server"}))

    _send(rt, Relay(str(tmp_path / "no-writer.sock")), views)

    assert _section_views(rt, ticket_id) == 3
    assert sample("bolletta_page_views_fallback_total") == before[0] + 3
    assert sample("bolletta_page_views_written_total", {"writer": "server"}) == before[1] + 3
