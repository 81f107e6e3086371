"""The task outbox: actor messages written with the change that needs them, sent after commit.

``defer(session, "parse_job", slug, job_id)`` adds a row in the same transaction; when that
session commits, :func:`relay` hands every unsent row of the tenant to the broker and stamps it.
A rollback leaves no row; a broker failure leaves the row for the next relay (at start and from
the scheduler), so no work is lost. Actors are idempotent, so a row relayed twice is harmless.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dramatiq
from dramatiq import Worker
from dramatiq.broker import Broker
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import ColumnElement, event, select, true, update
from sqlalchemy.orm import Session

from bolletta.platform import clock, workers
from bolletta.platform.db.bulk import insert_rows
from bolletta.platform.db.models.tenant import OutboxTask
from bolletta.platform.jobs.own_work import JobWork

logger = logging.getLogger(__name__)

_PENDING_KEY = "outbox_pending"
OUTBOX_OPTION = "outbox_row"
"""Message option carrying ``[tenant, row id]``, so the worker can stamp the row done."""

_relay_scope: JobWork | None = None
"""When set, the only rows this process relays and requeues (see :func:`relay_only`)."""


def defer(session: Session, actor_name: str, *args: Any) -> None:
    """Add a message for ``actor_name`` to the session's transaction."""
    session.add(OutboxTask(actor=actor_name, args=list(args), created_at=clock.now()))
    session.info[_PENDING_KEY] = True


def defer_many(session: Session, actor_name: str, args_list: Sequence[Sequence[Any]]) -> None:
    """Add one message for ``actor_name`` per argument tuple, with a single multi-row insert."""
    if not args_list:
        return
    now = clock.now()
    insert_rows(session, OutboxTask, [{"actor": actor_name, "args": list(args), "created_at": now}
                                      for args in args_list])
    session.info[_PENDING_KEY] = True


RELAY_BATCH = 500
"""Outbox rows relayed per transaction."""


def relay_only(scope: JobWork | None) -> None:
    """Make this process relay and requeue only the rows of ``scope``, or every row again with ``None``.

    Every other row stays unsent for the processes that relay every row.
    """
    global _relay_scope
    _relay_scope = scope


def _in_scope(tenant: str) -> ColumnElement[bool]:
    return true() if _relay_scope is None else _relay_scope.condition(tenant)


def relay(db: Any, tenant: str) -> int:
    """Send the tenant's unsent outbox rows to the broker; return how many were sent.

    Rows are taken ``RELAY_BATCH`` at a time and claimed by stamping ``sent_at`` in the same
    transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's write lock serialises relays), so
    two relays never send the same row. When the broker fails, the rows not yet sent are unstamped
    and wait for the next relay.
    """
    sent = 0
    broker = dramatiq.get_broker()
    while True:
        with db.tenant_session(tenant) as session:
            candidates = list(session.scalars(
                select(OutboxTask.id).where(OutboxTask.sent_at.is_(None), _in_scope(tenant)).order_by(OutboxTask.id)
                .limit(RELAY_BATCH).with_for_update(skip_locked=True)
            ))
            if not candidates:
                return sent
            claimed = set(session.scalars(
                update(OutboxTask).where(OutboxTask.id.in_(candidates), OutboxTask.sent_at.is_(None))
                .values(sent_at=clock.now()).returning(OutboxTask.id)
            ))
            rows = session.scalars(
                select(OutboxTask).where(OutboxTask.id.in_(claimed)).order_by(OutboxTask.id)
            ).all()
            unsent: list[int] = []
            for index, row in enumerate(rows):
                try:
                    actor = broker.get_actor(row.actor)
                    # The keyword is OUTBOX_OPTION, spelled out because message options are keyword arguments.
                    broker.enqueue(actor.message_with_options(args=tuple(row.args), outbox_row=[tenant, row.id]))
                except Exception:
                    logger.exception("task outbox: sending %s (row %d) of tenant %s failed", row.actor, row.id, tenant)
                    unsent = [later.id for later in rows[index:]]
                    break
                sent += 1
            if unsent:
                session.execute(update(OutboxTask).where(OutboxTask.id.in_(unsent)).values(sent_at=None))
            session.commit()
            if unsent or len(candidates) < RELAY_BATCH:
                return sent


@event.listens_for(Session, "after_commit")
def _relay_after_commit(session: Session) -> None:
    if not session.info.pop(_PENDING_KEY, False):
        return
    tenant = session.info.get("tenant")
    if tenant is None:
        return
    from bolletta.platform import runtime

    relay(runtime.current().db, tenant)


def mark_done(db: Any, tenant: str, row_id: int) -> None:
    """Stamp the outbox row whose message an actor finished."""
    with db.tenant_session(tenant) as session:
        session.execute(update(OutboxTask).where(OutboxTask.id == row_id).values(done_at=clock.now()))
        session.commit()


def requeue_unfinished(db: Any) -> int:
    """Mark every sent but unfinished row unsent again; return how many.

    Only for the in-memory broker at start: its queue died with the previous process, so those
    messages are gone. Actors are idempotent, so one that did finish just before a crash (without
    its row being stamped) does nothing the second time. Under :func:`relay_only`, only the rows of
    that scope are marked.
    """
    from bolletta.tenants.registry import all_tenant_slugs

    count = 0
    slugs = all_tenant_slugs(db) if _relay_scope is None else [_relay_scope.tenant]
    for slug in slugs:
        with db.tenant_session(slug) as session:
            result = session.execute(
                update(OutboxTask)
                .where(OutboxTask.sent_at.is_not(None), OutboxTask.done_at.is_(None), _in_scope(slug))
                .values(sent_at=None)
            )
            count += result.rowcount  # type: ignore[attr-defined]
            session.commit()
    return count


def relay_all(db: Any) -> int:
    """Relay every tenant's unsent rows (at start and periodically); return how many were sent."""
    from bolletta.tenants.registry import all_tenant_slugs

    return sum(relay(db, slug) for slug in all_tenant_slugs(db))


class RelayLoop:
    """Relays unsent outbox rows every ``interval`` seconds, catching up after a broker outage."""

    def __init__(self, db: Any, interval: float = 30.0) -> None:
        self.db = db
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)

    def start(self) -> None:
        """Start relaying in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current round."""
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                sent = relay_all(self.db)
            except Exception:  # the loop must outlive a database outage
                logger.exception("task outbox: periodic relay failed")
                continue
            if sent:
                logger.info("task outbox: periodic relay sent %d messages", sent)


@dataclass
class Processing:
    """A worker and the outbox relay loop running in this process."""

    worker: Worker | None
    relay_loop: RelayLoop
    sweeper: Any = None
    """The dispatch sweeper loop (quiet hours, reconciliation, timeouts, fallbacks)."""

    def stop(self) -> None:
        """Stop relaying, then let the worker finish or requeue its messages."""
        self.relay_loop.stop()
        if self.sweeper is not None:
            self.sweeper.stop()
        if self.worker is not None:
            self.worker.stop()
            if isinstance(self.worker.broker, StubBroker):
                workers.discard_memory_queues(self.worker.broker)


def start_processing(
    db: Any, broker: Broker, *, run_worker: bool = True, threads: int = 4, queues: set[str] | None = None,
) -> Processing:
    """Start the relay loop and, when asked, a worker; with the in-memory broker, resend lost work first.

    The in-memory broker lives and dies with this process, so outbox rows it had taken but not
    finished are marked unsent again before the first relay. ``queues`` limits the worker to those
    queues (``None``: every declared queue).
    """
    if isinstance(broker, StubBroker):
        requeue_unfinished(db)
    worker = None
    if run_worker:
        worker = Worker(broker, queues=queues, worker_threads=threads, worker_timeout=100)
        worker.start()
    relay_all(db)
    loop = RelayLoop(db)
    loop.start()
    from bolletta.platform import runtime
    from bolletta.platform.dispatch.sweeper import SweeperLoop

    sweeper = SweeperLoop(runtime.current())
    sweeper.start()
    return Processing(worker=worker, relay_loop=loop, sweeper=sweeper)
