"""The one clock every time rule reads (ticket validity, test-ticket expiry, timeouts).

Tests replace it with :func:`use_clock` or move time with ``time-machine``; production code calls
:func:`now` and never ``datetime.now`` directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")

_source: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return _source()


@contextmanager
def use_clock(source: Callable[[], datetime]) -> Iterator[None]:
    """Make :func:`now` read ``source`` inside the block."""
    global _source
    previous = _source
    _source = source
    try:
        yield
    finally:
        _source = previous


def as_utc(value: datetime) -> datetime:
    """Return ``value`` as aware UTC; SQLite hands back naive datetimes that are stored as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
