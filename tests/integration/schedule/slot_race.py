"""Schedulers racing for the same slot, shared by the SQLite and the PostgreSQL tests."""

from __future__ import annotations

import threading
from datetime import timedelta

from bolletta.platform.db.database import Database
from bolletta.platform.schedule import take_slot


def race_for_slot(db: Database, key: str, schedulers: int) -> list[bool]:
    """Let ``schedulers`` threads try to take ``key`` at the same moment; return what each got."""
    barrier = threading.Barrier(schedulers)
    results: list[bool] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        taken = take_slot(db, key, timedelta(minutes=15))
        with lock:
            results.append(taken)

    threads = [threading.Thread(target=run) for _ in range(schedulers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results
