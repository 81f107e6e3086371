"""The API's per-token request counters on Redis: two web processes share one limit."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from dramatiq.rate_limits.backends import RedisBackend

from bolletta.platform.api.auth import take_turn
from bolletta.platform.dispatch import ratelimit

pytestmark = pytest.mark.services

LIMIT = 3


@pytest.fixture
def namespace() -> Iterator[str]:
    yield f"test-api-rate-{uuid.uuid4().hex[:8]}"
    ratelimit.use_backend(None)


def test_processes_share_the_limit(broker_url: str, namespace: str) -> None:
    # Two backends with their own connections stand for two web processes.
    first, second = RedisBackend(url=broker_url), RedisBackend(url=broker_url)

    with time_machine.travel(datetime(2026, 3, 2, 10, 15, 10, tzinfo=UTC), tick=False):
        ratelimit.use_backend(first)
        from_first = [take_turn(7, LIMIT, namespace) for _ in range(2)]
        ratelimit.use_backend(second)
        from_second = [take_turn(7, LIMIT, namespace) for _ in range(2)]
        other_token = take_turn(8, LIMIT, namespace)

    assert from_first == [None, None]
    assert from_second == [None, 50]
    assert other_token is None
