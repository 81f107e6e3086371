"""Usage counters of shared channel accounts under concurrent workers, on PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from bolletta.platform.db.database import Database
from bolletta.platform.db.models.platform import SharedAccountUsage
from bolletta.platform.dispatch.shared_accounts import count_usage

pytestmark = pytest.mark.services

WORKERS = 8
ROUNDS = 25


def test_concurrent_increments_all_land(db: Database) -> None:
    """Workers starting together on a row nobody has created yet lose no increment and raise nothing."""
    barrier = threading.Barrier(WORKERS)

    def worker(index: int) -> None:
        barrier.wait()
        for _ in range(ROUNDS):
            with db.platform_session() as session:
                count_usage(session, "acme", "sms-condiviso", "sms", 1, "2026-12")
                count_usage(session, f"altra{index % 2}", "sms-condiviso", "sms", 2, "2026-12")
                session.commit()

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(worker, range(WORKERS)))

    with db.platform_session() as session:
        counts = dict(session.execute(select(SharedAccountUsage.tenant, SharedAccountUsage.count)).all())
    assert counts == {"acme": WORKERS * ROUNDS, "altra0": WORKERS * ROUNDS, "altra1": WORKERS * ROUNDS}
