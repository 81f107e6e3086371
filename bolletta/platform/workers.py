"""Dramatiq broker set-up and the in-process worker.

:func:`setup_broker` must run before any actor module is imported: an actor binds to the broker
that is current when its module loads, and without one Dramatiq would connect to a default
RabbitMQ (one runs on the development machines). :func:`load_actors` imports the actor modules
afterwards.
"""

from __future__ import annotations

import importlib
import logging
from queue import Queue

import dramatiq
from dramatiq import Worker
from dramatiq.broker import Broker, MessageProxy
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage, Middleware

from bolletta.platform.errors import ConfigurationError
from bolletta.platform.logs import LogContextMiddleware
from bolletta.platform.settings import Settings
from bolletta.platform.tenant_gate import TenantGate

logger = logging.getLogger(__name__)

ACTOR_MODULES = (
    "bolletta.platform.jobs.actors",
    "bolletta.platform.dispatch.actors",
    "bolletta.platform.payments.actors",
    "bolletta.platform.mail.actors",
    "bolletta.platform.sftp.actors",
    "bolletta.platform.webhooks.actors",
    "bolletta.platform.office.actors",
    "bolletta.platform.portal.actors",
    "bolletta.platform.speech.actors",
    "bolletta.platform.privacy.actors",
)

QUEUES = ("default", "speech")

_broker: Broker | None = None


class OutboxCompletion(Middleware):
    """Stamps a message's task outbox row done once its actor finished without error."""

    def after_process_message(
        self,
        broker: Broker,
        message: MessageProxy,
        *,
        result: object = None,
        exception: BaseException | None = None,
    ) -> None:
        from bolletta.platform import runtime, tasks

        row = message.options.get(tasks.OUTBOX_OPTION)
        if exception is not None or not row:
            return
        try:
            tasks.mark_done(runtime.current().db, row[0], int(row[1]))
        except Exception:  # a failed stamp only means the message may run once more after a crash
            logger.exception("task outbox: marking row %s of tenant %s done failed", row[1], row[0])


def setup_broker(settings: Settings) -> Broker:
    """Create the broker named by ``BOLLETTA_BROKER_URL`` (or the stub broker) and make it global.

    Calling it again returns the broker already set: actors stay bound to the first one.
    """
    global _broker
    if _broker is not None:
        return _broker
    url = settings.broker_url
    broker: Broker
    if not url:
        broker = StubBroker()
        broker.emit_after("process_boot")
    elif url.startswith(("redis://", "rediss://")):
        from dramatiq.brokers.redis import RedisBroker

        broker = RedisBroker(url=url, namespace=settings.broker_namespace)
    elif url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=url)
    else:
        raise ConfigurationError(
            f"BOLLETTA_BROKER_URL must start with redis:// or amqp:// (got {url.split(':', 1)[0]}://...)"
        )
    broker.add_middleware(LogContextMiddleware())
    broker.add_middleware(OutboxCompletion())
    broker.add_middleware(CurrentMessage())
    broker.add_middleware(TenantGate())
    dramatiq.set_broker(broker)
    _broker = broker
    logger.info("broker: %s", type(broker).__name__)
    return broker


def load_actors() -> None:
    """Import every actor module so the broker knows each actor by name."""
    if _broker is None:
        raise ConfigurationError("setup_broker() must run before the actors are loaded.")
    for name in ACTOR_MODULES:
        importlib.import_module(name)
    for queue in QUEUES:
        _broker.declare_queue(queue)


def start_worker(broker: Broker, *, threads: int = 4) -> Worker:
    """Start a worker inside this process (the embedded default) and return it."""
    worker = Worker(broker, worker_threads=threads, worker_timeout=100)
    worker.start()
    return worker


def wait_idle(broker: Broker, timeout_ms: int = 60_000) -> None:
    """Block until the stub broker's queues are empty (demo and tests)."""
    if isinstance(broker, StubBroker):
        for queue in list(broker.queues):
            broker.join(queue, timeout=timeout_ms, fail_fast=True)


def discard_memory_queues(broker: StubBroker) -> None:
    """Give every in-memory queue a new, empty ``Queue`` once this process's worker has stopped.

    A stopping worker cannot hand back what it took from the in-memory broker (a delayed message it
    held until its time, a prefetched one): the message is gone but its queue still counts it as
    unfinished, so every later :func:`wait_idle` would time out. The task outbox sends any such
    work again when a stack next starts on the same data.
    """
    for name in list(broker.queues):
        broker.queues[name] = Queue()
    for dead_letters in broker.dead_letters_by_queue.values():
        dead_letters.clear()
