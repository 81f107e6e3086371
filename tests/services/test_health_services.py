"""The readiness checks of the broker against the machine's Redis and RabbitMQ."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

import pika.exceptions
import pytest
import redis.exceptions

from bolletta.platform.health import check_broker
from bolletta.platform.runtime import Runtime

pytestmark = pytest.mark.services


def _runtime(broker_url: str) -> Runtime:
    return cast(Runtime, SimpleNamespace(settings=SimpleNamespace(broker_url=broker_url)))


def test_redis_answers_ping(broker_url: str) -> None:
    assert check_broker(_runtime(broker_url)).detail == "Redis answered PING"


def test_rabbitmq_accepts_connection(rabbitmq_url: str) -> None:
    assert check_broker(_runtime(rabbitmq_url)).detail == "RabbitMQ accepted a connection"


def test_unreachable_redis_raises(broker_url: str) -> None:
    with pytest.raises(redis.exceptions.ConnectionError):
        check_broker(_runtime("redis://127.0.0.1:1/0"))


def test_unreachable_rabbitmq_raises(rabbitmq_url: str) -> None:
    with pytest.raises(pika.exceptions.AMQPConnectionError):
        check_broker(_runtime("amqp://guest:guest@127.0.0.1:1/%2F"))
