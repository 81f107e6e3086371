"""How many messages each broker queue holds, as the broker itself counts them.

The task outbox (see :mod:`bolletta.platform.metric_figures`) is the reliable count of unfinished
work: it covers every broker and survives a broker that lost its data. These readings are the
broker's side of the same story, for telling "the broker holds a backlog" from "the relay is
stuck". Each broker counts differently:

- Redis: ``ready`` is the queue's list. ``unacked`` is messages a worker fetched and has not
  acknowledged yet (the queue's message hash less the list). ``delayed`` is the delay queue
  (retries with backoff, messages with an ``eta``), and ``dead`` the dead-letter set.
- RabbitMQ: ``ready``, ``delayed`` and ``dead`` as the server reports them for each queue;
  RabbitMQ does not report messages fetched but not acknowledged in the same call, so ``unacked``
  is missing.
- In-memory: the queues of this process only (the embedded default, where one process does all).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from dramatiq.broker import Broker
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name, xq_name

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BrokerQueue:
    """One queue's message counts; ``None`` where the broker does not report that count."""

    broker: str
    queue: str
    ready: int
    delayed: int
    dead: int
    unacked: int | None = None


def base_queues(broker: Broker) -> list[str]:
    """Return the declared queues without their delay and dead-letter companions."""
    return sorted(name for name in broker.get_declared_queues() if not name.endswith((".DQ", ".XQ")))


def read_queues(broker: Broker) -> list[BrokerQueue]:
    """Count the messages of every declared queue of ``broker``; an unknown broker kind gives none."""
    kind = type(broker).__name__
    if isinstance(broker, StubBroker):
        return [_stub(broker, name) for name in base_queues(broker)]
    if kind == "RedisBroker":
        return [_redis(broker, name) for name in base_queues(broker)]
    if kind == "RabbitmqBroker":
        return [_rabbitmq(broker, name) for name in base_queues(broker)]
    logger.debug("queue depth: no reading for broker %s", kind)
    return []


def _stub(broker: StubBroker, name: str) -> BrokerQueue:
    delayed = broker.queues.get(dq_name(name))
    return BrokerQueue(
        broker="memory", queue=name, ready=broker.queues[name].qsize(),
        delayed=delayed.qsize() if delayed is not None else 0,
        dead=len(broker.dead_letters_by_queue.get(name, [])),
    )


def _redis(broker: Broker, name: str) -> BrokerQueue:
    # Key names follow dramatiq's Redis broker: "<namespace>:<queue>" is the list of ready message
    # ids, "<...>.msgs" the hash of every message not yet acknowledged.
    client = broker.client  # type: ignore[attr-defined]
    namespace = broker.namespace  # type: ignore[attr-defined]
    with client.pipeline(transaction=False) as pipe:
        pipe.llen(f"{namespace}:{name}")
        pipe.hlen(f"{namespace}:{name}.msgs")
        pipe.hlen(f"{namespace}:{dq_name(name)}.msgs")
        pipe.zcard(f"{namespace}:{xq_name(name)}")
        ready, stored, delayed, dead = (int(value) for value in pipe.execute())
    return BrokerQueue(broker="redis", queue=name, ready=ready, delayed=delayed, dead=dead,
                       unacked=max(0, stored - ready))


def _rabbitmq(broker: Broker, name: str) -> BrokerQueue:
    ready, delayed, dead = broker.get_queue_message_counts(name)  # type: ignore[attr-defined]
    return BrokerQueue(broker="rabbitmq", queue=name, ready=ready, delayed=delayed, dead=dead)
