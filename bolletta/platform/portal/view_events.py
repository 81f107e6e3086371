"""Recording page views (``viewed``, ``section_viewed``, ``language_changed``) in batches.

A page view queues its events here and returns without waiting for the database. One background
task per event loop collects views for :data:`FLUSH_INTERVAL_SECONDS`, then writes all of them in
one transaction, so many views share one commit (group commit).

Under ``bolletta serve --processes N`` the task sends each batch to the view writer process instead
(:mod:`view_relay`, :mod:`view_writer_process`), and writes it itself only when that process cannot
be reached.

Each view is written once. The first view of a ticket sets ``first_viewed_at`` with a conditional
``UPDATE`` and adds ``viewed`` only for the tickets that update changed, so two processes never
both record it. A failed write keeps its views queued and is tried again after
:data:`RETRY_SECONDS`. Views still queued when the process exits are written by an ``atexit`` hook
with a synchronous session, and :func:`flush` waits for the queue when the app shuts down.
"""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import json
import logging
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import anyio
from sqlalchemy import case, literal, text, update
from sqlalchemy.orm import Session

from bolletta.platform.db.bulk import copy_tuples, insert_rows
from bolletta.platform.db.models.tenant import Event, Ticket
from bolletta.platform.portal import view_metrics, view_relay
from bolletta.platform.portal.access_cache import QUIET_KEY
from bolletta.platform.runtime import Runtime

logger = logging.getLogger(__name__)

RETRY_SECONDS = 1.0
FLUSH_INTERVAL_SECONDS = 0.25
"""How long the writer collects views before each write: a view is stored about this long after its
page was sent, and a busy process commits about four times a second instead of once per few views."""
MAX_QUEUED = 100_000
"""Views kept while the database is unreachable; older ones are dropped and logged past this."""


@dataclass(frozen=True)
class PageView:
    """One bill page served to a customer's session."""

    tenant: str
    ticket_id: int
    bill_id: int
    channel: str
    at: datetime
    section: str
    language: str
    switched: bool
    """Whether the customer chose ``language`` with ``?lang=`` on this request (``language_changed``)."""
    first_view: bool
    """Whether the ticket had no ``first_viewed_at`` when the page was served."""


def _first_view_times(views: list[PageView]) -> dict[int, datetime]:
    times: dict[int, datetime] = {}
    for view in views:
        if view.first_view and view.ticket_id not in times:
            times[view.ticket_id] = view.at
    return times


def _event_rows(views: list[PageView], newly_viewed: set[int]) -> list[dict[str, Any]]:
    """Return the event rows of ``views`` in order, ``viewed`` first for each ticket in ``newly_viewed``."""
    rows: list[dict[str, Any]] = []
    pending_first = set(newly_viewed)
    for view in views:
        base = {"ticket_id": view.ticket_id, "bill_id": view.bill_id, "at": view.at, "channel": view.channel}
        if view.ticket_id in pending_first:
            pending_first.discard(view.ticket_id)
            rows.append(base | {"kind": "viewed", "data": {}})
        rows.append(base | {"kind": "section_viewed", "data": {"section": view.section}})
        if view.switched:
            rows.append(base | {"kind": "language_changed", "data": {"language": view.language}})
    return rows


EVENT_COLUMNS = ("ticket_id", "bill_id", "at", "channel", "kind", "data")


@cache
def _json_data(name: str, value: str) -> str:
    """Return the ``data`` of an event as JSON text, as the JSON column would store ``{name: value}``."""
    return json.dumps({name: value})


def _event_tuples(views: list[PageView], newly_viewed: set[int]) -> list[tuple[Any, ...]]:
    """Return the rows of :func:`_event_rows` as tuples in the order of ``EVENT_COLUMNS``, for ``COPY``.

    A busy web process writes a few hundred views four times a second from a thread. Building a dict
    per row and passing it through the column types held the interpreter lock long enough to delay
    the requests of the event loop by several milliseconds.
    """
    rows: list[tuple[Any, ...]] = []
    pending_first = set(newly_viewed)
    for view in views:
        if view.ticket_id in pending_first:
            pending_first.discard(view.ticket_id)
            rows.append((view.ticket_id, view.bill_id, view.at, view.channel, "viewed", "{}"))
        rows.append((view.ticket_id, view.bill_id, view.at, view.channel, "section_viewed",
                     _json_data("section", view.section)))
        if view.switched:
            rows.append((view.ticket_id, view.bill_id, view.at, view.channel, "language_changed",
                         _json_data("language", view.language)))
    return rows


def _first_view_update(times: dict[int, datetime]) -> Any:
    return (
        update(Ticket)
        .where(Ticket.id.in_(list(times)), Ticket.first_viewed_at.is_(None))
        .values(first_viewed_at=case(
            {ticket_id: literal(at, Ticket.first_viewed_at.type) for ticket_id, at in times.items()},
            value=Ticket.id))
        .returning(Ticket.id)
        .execution_options(synchronize_session=False)
    )


def _write_tenant(session: Session, views: list[PageView]) -> None:
    """Write the views of one tenant in one transaction; the events go in with ``COPY`` on PostgreSQL."""
    session.info[QUIET_KEY] = True
    times = _first_view_times(views)
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:
        # Views wait in memory for up to a quarter of a second anyway, so the commit need not wait
        # for the WAL flush either: a database crash loses at most the last moment's views.
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    newly_viewed = set(session.scalars(_first_view_update(times)).all()) if times else set()
    if postgresql:
        copy_tuples(session, Event, EVENT_COLUMNS, _event_tuples(views, newly_viewed))
    else:
        insert_rows(session, Event, _event_rows(views, newly_viewed))
    session.commit()


def _by_tenant(views: list[PageView]) -> dict[str, list[PageView]]:
    grouped: defaultdict[str, list[PageView]] = defaultdict(list)
    for view in views:
        grouped[view.tenant].append(view)
    return grouped


class ViewWriter:
    """The queue of one event loop's page views, and the background task writing it."""

    def __init__(self, rt: Runtime, relay: view_relay.Relay | None = None,
                 role: str = view_metrics.SERVER) -> None:
        self.rt = rt
        self.relay = relay
        """The connection batches go to when a view writer process runs. With ``None`` this writer stores them."""
        self.role = role
        """The ``writer`` label of the views this writer commits: ``server`` or ``view_writer``."""
        self.queued: list[PageView] = []
        self.task: asyncio.Task[None] | None = None
        """The running write loop; holding it keeps the task alive until it ends."""
        self.lock = threading.Lock()
        """Guards ``queued`` against the ``atexit`` hook, which runs on another thread's stack."""

    def record(self, view: PageView) -> None:
        """Queue ``view`` and start the write loop unless it is running; never waits for the database."""
        with self.lock:
            self.queued.append(view)
        if self.task is None:
            # A new context: the task outlives this request, and its log lines must not carry the
            # request's tenant or ids.
            self.task = asyncio.get_running_loop().create_task(self._drain(), context=contextvars.Context())

    async def flush(self) -> None:
        """Wait until the write loop has written every queued view (shutdown, tests)."""
        while self.task is not None:
            await asyncio.shield(self.task)

    async def _drain(self) -> None:
        try:
            while self.queued:
                await asyncio.sleep(FLUSH_INTERVAL_SECONDS)
                if not await self._write_queued():
                    await asyncio.sleep(RETRY_SECONDS)
        finally:
            self.task = None

    async def _write_queued(self) -> bool:
        """Write every queued view, or hand them to the relay; on failure queue them again and return ``False``.

        Each tenant's write runs in a thread with a synchronous session, off the event loop. A
        cancellation (the server stopping) waits for that write to end, then queues again the views
        not yet committed, for the ``atexit`` hook.
        """
        with self.lock:
            views, self.queued = self.queued, []
        if self.relay is not None:
            try:
                if await self.relay.send(views):
                    view_metrics.RELAYED.inc(len(views))
                    return True
            except asyncio.CancelledError:
                self._requeue(views)
                raise
        groups = list(_by_tenant(views).items())
        for index, (tenant, tenant_views) in enumerate(groups):
            committed: list[bool] = []
            try:
                await anyio.to_thread.run_sync(self._write_tenant_views, tenant, tenant_views, committed)
            except asyncio.CancelledError:
                self._requeue([view for _tenant, remaining in groups[index + len(committed):] for view in remaining])
                raise
            except Exception:
                logger.exception("tenant %s: recording %d page views failed; retrying in %.0f s", tenant,
                                 len(tenant_views), RETRY_SECONDS)
                self._requeue([view for _tenant, remaining in groups[index:] for view in remaining])
                return False
        return True

    def _write_tenant_views(self, tenant: str, views: list[PageView], committed: list[bool]) -> None:
        """Write ``views`` and append to ``committed`` once they are committed."""
        with self.rt.db.tenant_session(tenant) as session:
            _write_tenant(session, views)
        committed.append(True)
        self._count_written(len(views))

    def _count_written(self, count: int) -> None:
        view_metrics.WRITTEN.labels(self.role).inc(count)
        if self.relay is not None:
            view_metrics.FALLBACK.inc(count)

    def _requeue(self, views: list[PageView]) -> None:
        with self.lock:
            self.queued[:0] = views
            if len(self.queued) > MAX_QUEUED:
                dropped = len(self.queued) - MAX_QUEUED
                del self.queued[:dropped]
                view_metrics.DROPPED.labels(self.role).inc(dropped)
                logger.error("%d page views dropped: the database has been unreachable too long", dropped)

    def write_remaining(self) -> None:
        """Write what is still queued with synchronous sessions (process exit)."""
        with self.lock:
            views, self.queued = self.queued, []
        for tenant, tenant_views in _by_tenant(views).items():
            try:
                with self.rt.db.tenant_session(tenant) as session:
                    _write_tenant(session, tenant_views)
            except Exception:
                view_metrics.DROPPED.labels(self.role).inc(len(tenant_views))
                logger.exception("tenant %s: %d page views lost at exit", tenant, len(tenant_views))
            else:
                self._count_written(len(tenant_views))


_writers: dict[asyncio.AbstractEventLoop, ViewWriter] = {}
"""Writers by event loop, held strongly so the ``atexit`` hook still finds their queues; a process
has one loop per web server it ran."""


def writer(rt: Runtime) -> ViewWriter:
    """Return the running event loop's writer."""
    loop = asyncio.get_running_loop()
    found = _writers.get(loop)
    if found is None or found.rt is not rt:
        found = _writers[loop] = ViewWriter(rt, view_relay.from_environment())
    return found


def record(rt: Runtime, view: PageView) -> None:
    """Queue one page view; the running event loop's writer stores it in the background."""
    writer(rt).record(view)


async def flush() -> None:
    """Write what the running event loop's writer has queued, and wait for it (shutdown, tests)."""
    found = _writers.get(asyncio.get_running_loop())
    if found is not None:
        await found.flush()


def write_queued(rt: Runtime | None = None) -> None:
    """Write the views still queued by writers whose event loop has ended (process exit).

    With ``rt``, only the writers of that runtime, so a stopping stack can write its views before it
    closes its database.
    """
    for found in list(_writers.values()):
        if found.queued and (rt is None or found.rt is rt):
            found.write_remaining()


@atexit.register
def _write_at_exit() -> None:
    write_queued()
