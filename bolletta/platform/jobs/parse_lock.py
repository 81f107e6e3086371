"""One parser per job at a time, across every worker process.

A job left ``parsing`` by a crashed worker is parsed again by the next delivery of its message, which
skips the bills already committed. A second delivery can arrive while the first parser still runs (a
message queued twice, or a broker redelivering one). It must not parse beside it, because the two
would race on the same document numbers. One would roll back a batch on the unique key, and
whichever finished first would write the report while the other still stored bills.

Each parser therefore holds a lock for its job while it runs, and a delivery that cannot take it
returns at once: the parser holding it will finish the job, and if that worker dies, the broker
delivers the dead worker's message again. On PostgreSQL the lock is a session-level advisory lock
on a connection of its own, which PostgreSQL releases when that connection ends, so a killed worker
frees the job. On SQLite, where one process runs every worker, it is a lock of this process.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from bolletta.platform.db.database import Database

_local_lock = threading.Lock()
_jobs_parsing: set[tuple[str, str, int]] = set()
"""Jobs being parsed in this process on SQLite: data folder, tenant and job id."""


@contextmanager
def parse_lock(db: Database, tenant: str, job_id: int) -> Iterator[bool]:
    """Hold the parse lock of the tenant's job for the block, if no other parser holds it.

    Yields True when this caller holds the lock, False when another parser does; the caller must
    then leave the job alone.
    """
    if db.is_sqlite:
        key = (str(db.settings.data_path), tenant, job_id)
        with _local_lock:
            acquired = key not in _jobs_parsing
            _jobs_parsing.add(key)
        try:
            yield acquired
        finally:
            if acquired:
                with _local_lock:
                    _jobs_parsing.discard(key)
        return

    with db.tenant_engine(tenant).connect() as connection:
        acquired = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:key)"),
                                          {"key": lock_key(tenant, job_id)}))
        connection.commit()
        try:
            yield acquired
        finally:
            if acquired:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": lock_key(tenant, job_id)})
                connection.commit()


def lock_key(tenant: str, job_id: int) -> int:
    """Return the advisory lock's 64-bit key; job ids repeat across tenants, so the tenant is hashed in."""
    digest = hashlib.sha256(f"bolletta:parse_job:{tenant}:{job_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
