"""Queue depths as Redis and RabbitMQ count them, on the machine's servers, with no worker consuming."""

from __future__ import annotations

import uuid

import dramatiq
import pytest
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker

from bolletta.platform.queue_depth import read_queues

pytestmark = pytest.mark.services


def _fill(broker: dramatiq.Broker, queue: str) -> None:
    @dramatiq.actor(broker=broker, queue_name=queue)
    def idle(number: int) -> None:
        """Never run: the test starts no worker."""

    for number in range(4):
        idle.send(number)
    idle.send_with_options(args=(99,), delay=600_000)


def test_redis_counts_ready_and_delayed(broker_url: str) -> None:
    broker = RedisBroker(url=broker_url, namespace=f"depth-{uuid.uuid4().hex[:8]}")
    queue = "depth"
    try:
        _fill(broker, queue)
        depths = {depth.queue: depth for depth in read_queues(broker)}
        assert (depths[queue].ready, depths[queue].delayed, depths[queue].dead, depths[queue].unacked) == (4, 1, 0, 0)
        assert depths[queue].broker == "redis"
    finally:
        broker.flush_all()
        broker.close()


def test_rabbitmq_counts_ready_and_delayed(rabbitmq_url: str) -> None:
    broker = RabbitmqBroker(url=rabbitmq_url, confirm_delivery=True)
    queue = f"depth-{uuid.uuid4().hex[:8]}"
    try:
        _fill(broker, queue)
        depths = {depth.queue: depth for depth in read_queues(broker)}
        assert (depths[queue].ready, depths[queue].delayed, depths[queue].dead) == (4, 1, 0)
        assert depths[queue].unacked is None
    finally:
        channel = broker.channel
        for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
            channel.queue_delete(name)
        broker.close()
