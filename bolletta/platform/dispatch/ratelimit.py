"""Send rates per provider account, shared by every worker process (Dramatiq's window limiter).

With the Redis broker the counters live in Redis, so two worker processes on one account together
stay within its rate; with the in-memory broker they live in this process. The account is named by
the plugin id and a hash of the settings' secret fields (its credentials), so two tenants that
share one provider account share its rate.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from functools import cache
from typing import Any

import dramatiq
from dramatiq.rate_limits import WindowRateLimiter
from dramatiq.rate_limits.backend import RateLimiterBackend
from dramatiq.rate_limits.backends import StubBackend

from bolletta.channels.base import Channel
from bolletta.channels.errors import ChannelUnavailable

MAX_WAIT_SECONDS = 30.0
"""Longest a send waits for its turn before it gives up and is retried later by the broker."""

_lock = threading.Lock()
_backend: RateLimiterBackend | None = None


def use_backend(backend: RateLimiterBackend | None) -> None:
    """Use ``backend`` for the counters (tests); ``None`` picks one from the broker again."""
    global _backend
    _backend = backend
    _limiter.cache_clear()


def shared_backend() -> RateLimiterBackend:
    """Return the counters' backend: Redis when the broker is Redis, else one in this process."""
    global _backend
    with _lock:
        if _backend is None:
            broker = dramatiq.get_broker()
            client = getattr(broker, "client", None)
            if client is not None:
                from dramatiq.rate_limits.backends import RedisBackend

                _backend = RedisBackend(client=client)
            else:
                _backend = StubBackend()
        return _backend


def effective_rate(channel: Channel) -> float | None:
    """The lower of the plugin's declared ``max_rate`` and the tenant's ``max_rate`` setting."""
    rates = [channel.capabilities.max_rate, getattr(channel.settings, "max_rate", None)]
    positive = [float(rate) for rate in rates if rate]
    return min(positive) if positive else None


def account_key(channel: Channel) -> str:
    """Rate limiter key of the channel's provider account."""
    secrets: dict[str, Any] = {name: getattr(channel.settings, name, "") for name in sorted(channel.secret_fields)}
    account = getattr(channel.settings, "account", "") or getattr(channel.settings, "username", "")
    digest = hashlib.sha256(repr((account, secrets)).encode()).hexdigest()[:16]
    return f"bolletta-rate:{channel.id}:{digest}"


@cache
def _limiter(key: str, rate: float) -> WindowRateLimiter:
    if rate >= 1:
        limit, window = int(rate), 1
    else:
        limit, window = 1, math.ceil(1 / rate)
    return WindowRateLimiter(shared_backend(), key, limit=limit, window=window)


def wait_turn(channel: Channel) -> None:
    """Block until the account may take one more message now.

    Raises:
        ChannelUnavailable: no turn came within :data:`MAX_WAIT_SECONDS`.
    """
    rate = effective_rate(channel)
    if rate is None:
        return
    limiter = _limiter(account_key(channel), rate)
    deadline = time.monotonic() + MAX_WAIT_SECONDS
    while True:
        with limiter.acquire(raise_on_failure=False) as acquired:
            if acquired:
                return
        if time.monotonic() > deadline:
            raise ChannelUnavailable(f"channel {channel.id!r}: rate limit of {rate}/s kept the message waiting")
        # The window is one second wide, so the next free slot opens at the next whole second.
        time.sleep(max(0.005, 1.0 - (time.time() % 1.0)))
