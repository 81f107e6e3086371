"""Sign-in lockout: five failures lock a username from one address, known or not, even for the right
password. Many failures from many addresses slow the username down without locking it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import httpx
import time_machine

from bolletta.platform import clock
from bolletta.platform.office import lockout
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import StaffLogin, sign_in, web_client

LOCAL = "127.0.0.1"
COLLEAGUE = "127.0.0.2"
"""Another loopback address: Linux routes all of 127.0.0.0/8 to the loopback interface."""


@contextmanager
def client_from(stack: EmbeddedStack, address: str) -> Iterator[httpx.Client]:
    """An HTTP client whose connections leave from ``address``, so the server reads it as the client's."""
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(base_url=stack.base_url, follow_redirects=False, timeout=10.0, transport=transport) as client:
        yield client


def test_five_failures_lock_the_address(stack: EmbeddedStack, operator: StaffLogin) -> None:
    username = operator.staff.username
    with web_client(stack) as client:
        failures = [sign_in(client, username, "wrong password").status_code for _ in range(lockout.MAX_FAILURES)]
        locked = sign_in(client, username, operator.password)

    assert failures == [401] * lockout.MAX_FAILURES
    assert locked.status_code == 401
    assert lockout.is_locked(stack.rt.db, username, LOCAL)

    with time_machine.travel(clock.now() + lockout.LOCK_TIME + timedelta(seconds=1), tick=False):
        assert not lockout.is_locked(stack.rt.db, username, LOCAL)
        with web_client(stack) as client:
            assert sign_in(client, username, operator.password).status_code == 303


def test_lock_spares_other_addresses(stack: EmbeddedStack, operator: StaffLogin) -> None:
    username = operator.staff.username
    with client_from(stack, COLLEAGUE) as attacker:
        for _ in range(lockout.MAX_FAILURES * 3):
            sign_in(attacker, username, "wrong password")
        attacker_with_password = sign_in(attacker, username, operator.password)
    with client_from(stack, LOCAL) as colleague:
        colleague_signs_in = sign_in(colleague, username, operator.password)

    assert attacker_with_password.status_code == 401
    assert lockout.is_locked(stack.rt.db, username, COLLEAGUE)
    assert not lockout.is_locked(stack.rt.db, username, LOCAL)
    assert colleague_signs_in.status_code == 303
    assert lockout.failures_of(stack.rt.db, username) == lockout.MAX_FAILURES  # locked attempts are not counted


def test_success_clears_the_count(stack: EmbeddedStack, viewer: StaffLogin) -> None:
    username = viewer.staff.username
    with web_client(stack) as client:
        for _ in range(lockout.MAX_FAILURES - 1):
            sign_in(client, username, "wrong password")
        assert sign_in(client, username, viewer.password).status_code == 303
    with web_client(stack) as client:
        for _ in range(lockout.MAX_FAILURES - 1):
            sign_in(client, username, "wrong password")
        assert sign_in(client, username, viewer.password).status_code == 303


def test_unknown_username_locks_too(stack: EmbeddedStack) -> None:
    with web_client(stack) as client:
        for _ in range(lockout.MAX_FAILURES):
            sign_in(client, "Nessuno.Qui", "x")

    assert lockout.is_locked(stack.rt.db, "nessuno.qui", LOCAL)
    assert not lockout.is_locked(stack.rt.db, "nessuno.qui", COLLEAGUE)


def test_old_failures_expire(stack: EmbeddedStack) -> None:
    for _ in range(lockout.MAX_FAILURES - 1):
        lockout.record_failure(stack.rt.db, "lento", LOCAL)
    with time_machine.travel(clock.now() + lockout.WINDOW + timedelta(minutes=1), tick=False):
        assert lockout.record_failure(stack.rt.db, "lento", LOCAL) is False
        assert not lockout.is_locked(stack.rt.db, "lento", LOCAL)


def test_many_addresses_slow_username(stack: EmbeddedStack) -> None:
    # Each address stays under its own lock, but together they pass the username's threshold.
    addresses = [f"10.1.{index // 250}.{index % 250}" for index in range(lockout.SLOWDOWN_FAILURES)]
    start = clock.now()
    with time_machine.travel(start, tick=False):
        for address in addresses[:-1]:
            lockout.record_failure(stack.rt.db, "distribuito", address)
        assert not lockout.is_locked(stack.rt.db, "distribuito", "192.0.2.1")
        lockout.record_failure(stack.rt.db, "distribuito", addresses[-1])
        slowed = lockout.is_locked(stack.rt.db, "distribuito", "192.0.2.1")
    with time_machine.travel(start + lockout.SLOWDOWN_DELAY + timedelta(seconds=1), tick=False):
        after_delay = lockout.is_locked(stack.rt.db, "distribuito", "192.0.2.1")
        lockout.record_failure(stack.rt.db, "distribuito", "192.0.2.2")
        slowed_again = lockout.is_locked(stack.rt.db, "distribuito", "192.0.2.1")

    assert slowed
    assert not after_delay  # slowed, not locked: the next attempt after the delay is checked
    assert slowed_again


def test_slowdown_over_http(stack: EmbeddedStack, operator: StaffLogin) -> None:
    username = operator.staff.username
    start = clock.now()
    with time_machine.travel(start, tick=False):
        for index in range(lockout.SLOWDOWN_FAILURES):
            lockout.record_failure(stack.rt.db, username, f"10.2.0.{index}")
        with web_client(stack) as client:
            during = sign_in(client, username, operator.password)
    with time_machine.travel(start + lockout.SLOWDOWN_DELAY + timedelta(seconds=1), tick=False), \
            web_client(stack) as client:
        after = sign_in(client, username, operator.password)

    assert during.status_code == 401
    assert after.status_code == 303


def test_password_reset_clears_all(stack: EmbeddedStack) -> None:
    for address in (LOCAL, COLLEAGUE):
        for _ in range(lockout.MAX_FAILURES):
            lockout.record_failure(stack.rt.db, "azzerato", address)

    lockout.clear(stack.rt.db, "azzerato")

    assert not lockout.is_locked(stack.rt.db, "azzerato", LOCAL)
    assert not lockout.is_locked(stack.rt.db, "azzerato", COLLEAGUE)
    assert lockout.failures_of(stack.rt.db, "azzerato") == 0
