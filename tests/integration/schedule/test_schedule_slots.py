"""Schedule slots: a periodic task runs once per period, however many schedulers look."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bolletta.platform.clock import use_clock
from bolletta.platform.db import migrate
from bolletta.platform.db.database import Database
from bolletta.platform.db.models.platform import ScheduleSlot
from bolletta.platform.schedule import ScheduleLoop, take_slot
from bolletta.platform.settings import load_settings
from tests.integration.schedule.slot_race import race_for_slot

START = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(load_settings(environ={}, data_dir=str(tmp_path), database_url=""))
    migrate.upgrade_platform(database)
    yield database
    database.dispose()


def test_new_slot_due_then_waits_period(db: Database) -> None:
    now = [START]
    with use_clock(lambda: now[0]):
        assert take_slot(db, "sftp_poll:acme", timedelta(minutes=15)) is True
        assert take_slot(db, "sftp_poll:acme", timedelta(minutes=15)) is False

        now[0] = START + timedelta(minutes=14, seconds=59)
        assert take_slot(db, "sftp_poll:acme", timedelta(minutes=15)) is False

        now[0] = START + timedelta(minutes=15)
        assert take_slot(db, "sftp_poll:acme", timedelta(minutes=15)) is True

    with db.platform_session() as session:
        slot = session.get(ScheduleSlot, "sftp_poll:acme")
        assert slot is not None
        assert slot.due_at.replace(tzinfo=UTC) == START + timedelta(minutes=30)
        assert slot.last_started_at is not None
        assert slot.last_started_at.replace(tzinfo=UTC) == START + timedelta(minutes=15)


def test_slots_are_independent(db: Database) -> None:
    with use_clock(lambda: START):
        assert take_slot(db, "sftp_poll:acme", timedelta(minutes=15)) is True
        assert take_slot(db, "sftp_poll:beta", timedelta(minutes=15)) is True
        assert take_slot(db, "sftp_poll:acme", timedelta(minutes=15)) is False


def test_two_schedulers_take_a_due_slot_once(db: Database) -> None:
    with use_clock(lambda: START):
        results = race_for_slot(db, "sftp_poll:acme", schedulers=6)

    assert sorted(results) == [False] * 5 + [True]


def test_loop_survives_a_failing_tick() -> None:
    calls: list[int] = []

    def tick() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database unreachable")

    loop = ScheduleLoop(tick, interval=0.01)
    loop.start()
    try:
        deadline = time.monotonic() + 10
        while len(calls) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        loop.stop()
    assert len(calls) >= 3
