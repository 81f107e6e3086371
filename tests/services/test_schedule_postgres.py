"""Schedulers racing for a slot on PostgreSQL: one takes it, the others see it taken."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bolletta.platform.clock import use_clock
from bolletta.platform.db.database import Database
from tests.integration.schedule.slot_race import race_for_slot

pytestmark = pytest.mark.services


def test_parallel_schedulers_take_a_due_slot_once(db: Database) -> None:
    with use_clock(lambda: datetime(2026, 12, 4, 9, 0, tzinfo=UTC)):
        for round_number in range(5):
            results = race_for_slot(db, f"sftp_poll:race{round_number}", schedulers=8)
            assert sorted(results) == [False] * 7 + [True]
