"""Failed-login throttling per account and per source address."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paramiko
import pytest

from bolletta.platform.clock import use_clock
from bolletta.platform.sftp.throttle import LoginThrottle, ThrottleSettings

from .conftest import ACME_KEY, Inbox, open_transport, running_inbox

START = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


class FakeClock:
    """A clock that stays still until a test moves it."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def fake_clock() -> Iterator[FakeClock]:
    fake = FakeClock()
    with use_clock(fake):
        yield fake


@pytest.fixture
def throttled_inbox(tmp_path: Path, fake_clock: FakeClock) -> Iterator[Inbox]:
    with running_inbox(tmp_path, throttle=ThrottleSettings(max_failures=5, window=timedelta(minutes=15))) as inbox:
        yield inbox


def _fail_login(inbox: Inbox, username: str, password: str) -> None:
    with pytest.raises(paramiko.AuthenticationException), inbox.client(username, password):
        pass


def test_account_locked_after_five_failures(
    throttled_inbox: Inbox, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bolletta.platform.sftp")
    for attempt in range(5):
        _fail_login(throttled_inbox, "acme-upload", f"guess {attempt}")

    _fail_login(throttled_inbox, "acme-upload", "correct horse")

    assert "too many failed logins for the account or address; password not checked" in caplog.text
    assert "retry after 2026-12-05T09:15:00+00:00" in caplog.text
    assert "correct horse" not in caplog.text
    assert "guess 0" not in caplog.text
    assert not throttled_inbox.area("acme").exists()


def test_lock_lifts_after_window(throttled_inbox: Inbox, fake_clock: FakeClock) -> None:
    for attempt in range(5):
        _fail_login(throttled_inbox, "acme-upload", f"guess {attempt}")

    fake_clock.advance(timedelta(minutes=14, seconds=59))
    _fail_login(throttled_inbox, "acme-upload", "correct horse")

    fake_clock.advance(timedelta(seconds=1))
    with throttled_inbox.client("acme-upload") as sftp:
        assert sftp.listdir("/") == []


def test_rejected_attempts_do_not_extend_lock(throttled_inbox: Inbox, fake_clock: FakeClock) -> None:
    for attempt in range(5):
        _fail_login(throttled_inbox, "acme-upload", f"guess {attempt}")
    fake_clock.advance(timedelta(minutes=10))
    for attempt in range(3):
        _fail_login(throttled_inbox, "acme-upload", f"late guess {attempt}")

    fake_clock.advance(timedelta(minutes=5))
    with throttled_inbox.client("acme-upload") as sftp:
        assert sftp.listdir("/") == []


def test_address_locked_across_accounts(throttled_inbox: Inbox) -> None:
    for username in ("nobody-1", "nobody-2", "nobody-3", "beta-upload", "nobody-4"):
        _fail_login(throttled_inbox, username, "guess")

    _fail_login(throttled_inbox, "acme-upload", "correct horse")


def test_key_login_allowed_while_locked(throttled_inbox: Inbox) -> None:
    for attempt in range(5):
        _fail_login(throttled_inbox, "acme-upload", f"guess {attempt}")

    with throttled_inbox.client("acme-upload", key=ACME_KEY) as sftp:
        assert sftp.listdir("/") == []


def test_failures_in_one_connection_count(throttled_inbox: Inbox) -> None:
    connection = open_transport(throttled_inbox.server.port, throttled_inbox.host_key_path)
    try:
        for attempt in range(5):
            with pytest.raises(paramiko.AuthenticationException):
                connection.auth_password("acme-upload", f"guess {attempt}")
        with pytest.raises(paramiko.AuthenticationException):
            connection.auth_password("acme-upload", "correct horse")
    finally:
        connection.close()


def test_throttle_success_clears_account_only(fake_clock: FakeClock) -> None:
    throttle = LoginThrottle(ThrottleSettings(max_failures=2, window=timedelta(minutes=15)))
    throttle.record_failure("acme-upload", "192.0.2.1")
    throttle.record_failure("acme-upload", "192.0.2.2")
    assert throttle.locked_until("acme-upload", "192.0.2.3") == START + timedelta(minutes=15)

    throttle.record_success("acme-upload")
    assert throttle.locked_until("acme-upload", "192.0.2.3") is None

    throttle.record_failure("beta-upload", "192.0.2.1")
    assert throttle.locked_until("other", "192.0.2.1") == START + timedelta(minutes=15)


def test_throttle_settings_validated() -> None:
    with pytest.raises(ValueError, match="max_failures"):
        ThrottleSettings(max_failures=0)
    with pytest.raises(ValueError, match="window"):
        ThrottleSettings(window=timedelta(0))
