"""A stopped in-process worker leaves the in-memory queues joinable by the next stack."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any, cast

import dramatiq
import pytest
from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker
from dramatiq.errors import QueueJoinTimeout

from bolletta.platform import tasks

HOUR_MS = 3_600_000


def _broker_with_held_message() -> tuple[StubBroker, Worker]:
    """Return a private broker whose worker has taken a message delayed by an hour."""
    broker = StubBroker()
    broker.emit_after("process_boot")
    broker.declare_queue("default")

    @dramatiq.actor(broker=broker, queue_name="default")
    def later() -> None:
        """Do nothing (the message is due in an hour, after the test ends)."""

    later.send_with_options(delay=HOUR_MS)
    worker = Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    deadline = time.monotonic() + 5
    while broker.queues["default.DQ"].qsize() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert broker.queues["default.DQ"].qsize() == 0, "the worker never took the delayed message"
    return broker, worker


def test_worker_stop_leaves_queue_unjoinable() -> None:
    broker, worker = _broker_with_held_message()
    worker.stop()

    with pytest.raises(QueueJoinTimeout):
        broker.join("default", timeout=300)


def test_processing_stop_empties_queues() -> None:
    broker, worker = _broker_with_held_message()
    relay = SimpleNamespace(stop=lambda: None)
    processing = tasks.Processing(worker=worker, relay_loop=cast(Any, relay))

    processing.stop()

    broker.join("default", timeout=1000)
    assert broker.queues["default"].qsize() == 0
