"""Failed-login throttling for the SFTP server, per account and per source IP address.

paramiko has no protection against password guessing, so the server counts failed password
logins itself. Once an account or an address has ``max_failures`` failures within ``window``,
further password attempts for it are rejected without checking the password, until the oldest
counted failure is older than ``window``. Rejected attempts are not counted, so a client that keeps
trying does not extend its own lock-out.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from bolletta.platform import clock

DEFAULT_MAX_FAILURES = 5
DEFAULT_WINDOW = timedelta(minutes=15)
MAX_TRACKED_SOURCES = 100_000
"""Accounts plus addresses tracked at once. Past this, sources whose failures expired are dropped."""


@dataclass(frozen=True)
class ThrottleSettings:
    """How many failed logins within which period lock an account or a source address."""

    max_failures: int = DEFAULT_MAX_FAILURES
    window: timedelta = DEFAULT_WINDOW

    def __post_init__(self) -> None:
        if self.max_failures < 1:
            raise ValueError(f"max_failures must be at least 1, not {self.max_failures}")
        if self.window <= timedelta(0):
            raise ValueError(f"the throttling window must be positive, not {self.window}")


class LoginThrottle:
    """Failed-login counters of one server process, read against :func:`bolletta.platform.clock.now`.

    NOTE: the counters live in memory, so they restart with the process and are not shared between
    several SFTP server processes. Each process then allows ``max_failures`` per account and address.
    """

    def __init__(self, settings: ThrottleSettings | None = None) -> None:
        self.settings = settings or ThrottleSettings()
        self._lock = threading.Lock()
        self._failures: dict[tuple[str, str], deque[datetime]] = {}

    def locked_until(self, username: str, address: str) -> datetime | None:
        """Return when password attempts for ``username`` or from ``address`` are allowed again.

        Returns ``None`` when neither the account nor the address is locked now.
        """
        now = clock.now()
        with self._lock:
            ends = [
                end
                for source in (("account", username), ("address", address))
                if (end := self._lock_end(source, now)) is not None
            ]
        return max(ends) if ends else None

    def record_failure(self, username: str, address: str) -> None:
        """Count a failed password login for the account and for the address."""
        now = clock.now()
        with self._lock:
            if len(self._failures) >= MAX_TRACKED_SOURCES:
                self._drop_expired(now)
            for source in (("account", username), ("address", address)):
                failures = self._failures.setdefault(source, deque())
                self._expire(failures, now)
                failures.append(now)

    def record_success(self, username: str) -> None:
        """Clear the account's failures after a successful login.

        The address keeps its count, so logging in to one account does not reset the guesses made
        against others from the same address.
        """
        with self._lock:
            self._failures.pop(("account", username), None)

    def _lock_end(self, source: tuple[str, str], now: datetime) -> datetime | None:
        failures = self._failures.get(source)
        if failures is None:
            return None
        self._expire(failures, now)
        if len(failures) < self.settings.max_failures:
            return None
        # The lock lifts when enough failures have expired to go below max_failures again.
        return failures[-self.settings.max_failures] + self.settings.window

    def _expire(self, failures: deque[datetime], now: datetime) -> None:
        while failures and failures[0] <= now - self.settings.window:
            failures.popleft()

    def _drop_expired(self, now: datetime) -> None:
        for source in list(self._failures):
            self._expire(self._failures[source], now)
            if not self._failures[source]:
                del self._failures[source]
