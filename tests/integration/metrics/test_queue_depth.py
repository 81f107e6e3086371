"""Queue depths as the in-memory broker counts them: ready, delayed and dead messages per queue."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.stub import StubBroker

from bolletta.platform.queue_depth import read_queues


def test_memory_broker_counts_ready_delayed() -> None:
    broker = StubBroker()

    @dramatiq.actor(broker=broker, queue_name="mail")
    def notify(number: int) -> None:
        """Never run: no worker consumes this broker."""

    for number in range(3):
        notify.send(number)
    notify.send_with_options(args=(9,), delay=60_000)

    depths = {depth.queue: depth for depth in read_queues(broker)}

    assert set(depths) == {"mail"}, "the delay queue must be folded into its queue, not listed apart"
    assert (depths["mail"].ready, depths["mail"].delayed, depths["mail"].dead) == (3, 1, 0)
    assert depths["mail"].broker == "memory"
    assert depths["mail"].unacked is None
