"""Periodic work, safe when two schedulers run by mistake.

Each periodic task has a row in ``platform.schedule_slots`` with the time it is next due. A scheduler
takes a due slot with one conditional ``UPDATE`` that moves ``due_at`` forward. When two schedulers
see the same due slot, only one ``UPDATE`` matches the row, so the task runs once per period.
The clock is :mod:`bolletta.platform.clock`, so tests move time instead of waiting.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from bolletta.platform import clock
from bolletta.platform.db.models.platform import ScheduleSlot

logger = logging.getLogger(__name__)


def take_slot(db: Any, key: str, every: timedelta) -> bool:
    """Return whether the slot ``key`` was due and is now taken by this caller until ``every`` from now.

    A slot seen for the first time is due at once.
    """
    now = clock.now()
    with db.platform_session() as session:
        if session.get(ScheduleSlot, key) is None:
            session.add(ScheduleSlot(key=key, due_at=now))
            try:
                session.commit()
            except IntegrityError:  # another scheduler created it first
                session.rollback()
        result = session.execute(
            update(ScheduleSlot)
            .where(ScheduleSlot.key == key, ScheduleSlot.due_at <= now)
            .values(due_at=now + every, last_started_at=now)
        )
        session.commit()
    return bool(getattr(result, "rowcount", 0) == 1)


class ScheduleLoop:
    """Calls ``tick`` every ``interval`` seconds in a background thread until stopped."""

    def __init__(self, tick: Callable[[], object], interval: float = 30.0, name: str = "scheduler") -> None:
        self.tick = tick
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        """Run a first tick now, then one every ``interval`` seconds."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current tick."""
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)

    def run_forever(self) -> None:
        """Tick in the calling thread until :meth:`stop` is called from another thread or a signal."""
        self._run()

    def _run(self) -> None:
        while True:
            try:
                self.tick()
            except Exception:  # the loop must outlive a database outage
                logger.exception("scheduler: tick failed")
            if self._stop.wait(self.interval):
                return
