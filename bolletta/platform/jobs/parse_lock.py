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
frees the job. On SQLite, where the demo, ``bolletta serve`` and ``bolletta job import`` may each run a
worker on the same data folder, it is an ``flock`` on a file of its own under ``locks/parse/`` in the
data folder. The kernel releases it when the holding process dies, so a killed worker frees the job
there too.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from bolletta.platform.db.database import Database, check_slug

LOCK_FOLDER = Path("locks") / "parse"
"""Folder of the SQLite lock files, relative to the data folder."""


@contextmanager
def parse_lock(db: Database, tenant: str, job_id: int) -> Iterator[bool]:
    """Hold the parse lock of the tenant's job for the block, if no other parser holds it.

    Yields True when this caller holds the lock, False when another parser does; the caller must
    then leave the job alone.
    """
    if db.is_sqlite:
        with _file_lock(db.settings.data_path / LOCK_FOLDER / f"{check_slug(tenant)}.{int(job_id)}.lock") as acquired:
            yield acquired
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


@contextmanager
def _file_lock(path: Path) -> Iterator[bool]:
    """Hold an exclusive ``flock`` on ``path`` for the block, without waiting; yield whether it was taken.

    Two ``open`` calls get two open file descriptions, whose ``flock`` locks exclude each other even
    inside one process, so threads of one worker exclude each other as processes do. The holder
    deletes the file before it unlocks, so the lock folder keeps no file per finished job. A caller
    that opened the file before that deletion could lock the deleted file while a later caller locks
    a new one, so a caller keeps its lock only when the path still names the file it locked.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            yield False
            return
        if _names_file(path, descriptor):
            break
        os.close(descriptor)
    try:
        yield True
    finally:
        path.unlink(missing_ok=True)
        os.close(descriptor)


def _names_file(path: Path, descriptor: int) -> bool:
    """Return whether ``path`` still names the open file ``descriptor``."""
    try:
        named = path.stat()
    except FileNotFoundError:
        return False
    opened = os.fstat(descriptor)
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)
