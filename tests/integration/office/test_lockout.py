"""Sign-in lockout: five failures lock a username, known or not, even for the right password."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from bolletta.platform import clock
from bolletta.platform.office import lockout
from bolletta.platform.stack import EmbeddedStack
from tests.integration.stack_support import StaffLogin, sign_in, web_client


def test_five_failures_lock_the_username(stack: EmbeddedStack, operator: StaffLogin) -> None:
    username = operator.staff.username
    with web_client(stack) as client:
        failures = [sign_in(client, username, "wrong password").status_code for _ in range(lockout.MAX_FAILURES)]
        locked = sign_in(client, username, operator.password)

    assert failures == [401] * lockout.MAX_FAILURES
    assert locked.status_code == 401
    assert lockout.is_locked(stack.rt.db, username)

    with time_machine.travel(clock.now() + lockout.LOCK_TIME + timedelta(seconds=1), tick=False):
        assert not lockout.is_locked(stack.rt.db, username)
        with web_client(stack) as client:
            assert sign_in(client, username, operator.password).status_code == 303


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

    assert lockout.is_locked(stack.rt.db, "nessuno.qui")


def test_old_failures_expire(stack: EmbeddedStack) -> None:
    for _ in range(lockout.MAX_FAILURES - 1):
        lockout.record_failure(stack.rt.db, "lento")
    with time_machine.travel(clock.now() + lockout.WINDOW + timedelta(minutes=1), tick=False):
        assert lockout.record_failure(stack.rt.db, "lento") is False
        assert not lockout.is_locked(stack.rt.db, "lento")
