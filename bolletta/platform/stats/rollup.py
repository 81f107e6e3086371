"""The daily rollup behind "Stat. ticket": ticket figures per Europe/Rome day, job and channel.

A ticket belongs to the day of its creation in Europe/Rome (the spec's "ticket date"). For each day,
job and channel the rollup counts tickets, errors (latest message ``failed`` or ``rejected``), S2S
errors (``rejected``), viewed tickets, and ``delivered`` and ``timeout`` latest messages. It also
counts the payable bills first viewed through a ticket of that day, job and channel, and those of
them paid online. Test tickets never count.

:func:`refresh` rebuilds only the days touched since the last refresh: days of tickets created or
first viewed since then, of tickets whose messages changed, and of every ticket of a bill whose
payments changed. It looks back :data:`OVERLAP` before its mark, so a transaction that committed
late with an earlier timestamp is still seen. The SQL groups by UTC hour, which both SQLite and
PostgreSQL can do, and Python folds hours into Rome days: Rome's offset is a whole number of hours.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from bolletta.platform import clock
from bolletta.platform.clock import ROME
from bolletta.platform.db.bulk import insert_rows
from bolletta.platform.db.models.tenant import Bill, Message, Payment, StatsDay, StatsRefresh, Ticket

logger = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=10)
REFRESH_ROW_ID = 1


@dataclass
class Counts:
    """Additive ticket figures of one group (a day, a month, a channel, a job...)."""

    tickets: int = 0
    errors: int = 0
    s2s_errors: int = 0
    viewed: int = 0
    delivered: int = 0
    timeouts: int = 0
    viewed_payable: int = 0
    paid: int = 0

    def add(self, other: Counts) -> None:
        """Add ``other`` into this group."""
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))

    @property
    def pending(self) -> int:
        """Latest message ``created``, ``sent`` or ``uncertain`` ("In attesa")."""
        return self.tickets - self.delivered - self.errors - self.timeouts

    @property
    def deliverable(self) -> int:
        """Tickets less errors: the denominator of the viewed percentage."""
        return self.tickets - self.errors


COUNT_FIELDS = tuple(item.name for item in fields(Counts))


def _hour(column: Any, dialect: str) -> ColumnElement[Any]:
    """Return the UTC hour of a timestamp as an expression the database can group by."""
    if dialect == "sqlite":
        return func.strftime("%Y-%m-%d %H", column)
    return func.date_trunc("hour", func.timezone("UTC", column))


def _rome_day(hour: Any) -> date:
    """Return the Europe/Rome day of a UTC hour read back from :func:`_hour`."""
    if isinstance(hour, str):
        moment = datetime.strptime(hour, "%Y-%m-%d %H").replace(tzinfo=UTC)
    else:
        moment = hour.replace(tzinfo=UTC) if hour.tzinfo is None else hour.astimezone(UTC)
    return moment.astimezone(ROME).date()


def _in_window(column: Any, window: tuple[datetime, datetime] | None) -> list[ColumnElement[bool]]:
    if window is None:
        return []
    return [column >= window[0], column < window[1]]


def _ticket_counts(session: Session, window: tuple[datetime, datetime] | None) -> Iterable[Any]:
    dialect = session.get_bind().dialect.name
    status = func.coalesce(Ticket.latest_status, "created")

    def count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
        return func.sum(case((condition, 1), else_=0))

    inner = (
        select(Ticket.created_at, Ticket.job_id, Ticket.channel, Ticket.first_viewed_at, status.label("status"))
        .where(Ticket.is_test.is_(False), *_in_window(Ticket.created_at, window))
        .subquery()
    )
    hour = _hour(inner.c.created_at, dialect).label("hour")
    query = select(
        hour, inner.c.job_id, inner.c.channel, func.count().label("tickets"),
        count_if(inner.c.status.in_(("failed", "rejected"))), count_if(inner.c.status == "rejected"),
        count_if(inner.c.first_viewed_at.is_not(None)), count_if(inner.c.status == "delivered"),
        count_if(inner.c.status == "timeout"),
    ).group_by(hour, inner.c.job_id, inner.c.channel)
    return session.execute(query)


def _bill_counts(session: Session, window: tuple[datetime, datetime] | None) -> Iterable[Any]:
    """Payable bills per hour, job and channel of the ticket through which each was first viewed."""
    dialect = session.get_bind().dialect.name
    earlier = aliased(Ticket)
    first_view = ~exists().where(
        earlier.bill_id == Ticket.bill_id, earlier.is_test.is_(False), earlier.first_viewed_at.is_not(None),
        or_(earlier.first_viewed_at < Ticket.first_viewed_at,
            and_(earlier.first_viewed_at == Ticket.first_viewed_at, earlier.id < Ticket.id)),
    )
    paid = exists().where(Payment.bill_id == Ticket.bill_id, Payment.status == "completed")
    hour = _hour(Ticket.created_at, dialect).label("hour")
    query = (
        select(hour, Ticket.job_id, Ticket.channel, func.count().label("viewed_payable"),
               func.sum(case((paid, 1), else_=0)).label("paid"))
        .join(Bill, Bill.id == Ticket.bill_id)
        .where(Ticket.is_test.is_(False), Ticket.first_viewed_at.is_not(None), Bill.payable_online.is_(True),
               first_view, *_in_window(Ticket.created_at, window))
        .group_by(hour, Ticket.job_id, Ticket.channel)
    )
    return session.execute(query)


def compute_days(session: Session, window: tuple[datetime, datetime] | None) -> dict[tuple[date, int, str], Counts]:
    """Compute the figures of every ticket created in ``window`` (UTC ``[start, end)``; ``None`` for all)."""
    result: dict[tuple[date, int, str], Counts] = defaultdict(Counts)
    for hour, job_id, channel, tickets, errors, s2s, viewed, delivered, timeouts in _ticket_counts(session, window):
        result[(_rome_day(hour), job_id, channel)].add(
            Counts(tickets=tickets, errors=errors or 0, s2s_errors=s2s or 0, viewed=viewed or 0,
                   delivered=delivered or 0, timeouts=timeouts or 0)
        )
    for hour, job_id, channel, viewed_payable, paid in _bill_counts(session, window):
        result[(_rome_day(hour), job_id, channel)].add(Counts(viewed_payable=viewed_payable, paid=paid or 0))
    return result


def _dirty_days(session: Session, since: datetime) -> set[date]:
    """Rome days of the tickets touched since ``since``; one indexed query per kind of change."""
    dialect = session.get_bind().dialect.name
    hour = _hour(Ticket.created_at, dialect)
    changed_messages = select(Message.ticket_id).where(Message.updated_at >= since).distinct().subquery()
    changed_payments = select(Payment.bill_id).where(Payment.updated_at >= since).distinct().subquery()
    base = select(hour).where(Ticket.is_test.is_(False)).group_by(hour)
    queries = [
        base.where(Ticket.created_at >= since),
        base.where(Ticket.first_viewed_at >= since),
        base.join(changed_messages, changed_messages.c.ticket_id == Ticket.id),
        base.join(changed_payments, changed_payments.c.bill_id == Ticket.bill_id),
    ]
    return {_rome_day(value) for query in queries for value in session.scalars(query)}


def _day_window(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=ROME).astimezone(UTC)
    following = day + timedelta(days=1)
    return start, datetime(following.year, following.month, following.day, tzinfo=ROME).astimezone(UTC)


def _runs(days: set[date]) -> list[tuple[date, date]]:
    """Consecutive days grouped into ``(first, last)`` runs."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _store(session: Session, figures: dict[tuple[date, int, str], Counts]) -> None:
    rows = [{"day": day, "job_id": job_id, "channel": channel, **{name: getattr(counts, name) for name in COUNT_FIELDS}}
            for (day, job_id, channel), counts in figures.items()]
    insert_rows(session, StatsDay, rows)


def refresh(session: Session, *, full: bool = False) -> int:
    """Bring the rollup up to date and commit; return how many days were rebuilt (-1 for all).

    The refresh row is locked first, so two refreshes never rebuild the same days at once.
    """
    started = clock.now()
    state = session.get(StatsRefresh, REFRESH_ROW_ID, with_for_update=True)
    if state is None:
        state = StatsRefresh(id=REFRESH_ROW_ID, mark=None)
        session.add(state)
        session.flush()
    rebuilt = -1
    if full or state.mark is None:
        session.execute(delete(StatsDay))
        _store(session, compute_days(session, None))
    else:
        days = _dirty_days(session, clock.as_utc(state.mark) - OVERLAP)
        for first, last in _runs(days):
            session.execute(delete(StatsDay).where(StatsDay.day >= first, StatsDay.day <= last))
            _store(session, compute_days(session, (_day_window(first)[0], _day_window(last)[1])))
        rebuilt = len(days)
    state.mark = started
    session.commit()
    return rebuilt


def read_days(session: Session, first: date, last: date, job_id: int | None = None) -> list[StatsDay]:
    """Return the rollup rows of days ``first`` to ``last`` inclusive, optionally of one job."""
    query = select(StatsDay).where(StatsDay.day >= first, StatsDay.day <= last)
    if job_id is not None:
        query = query.where(StatsDay.job_id == job_id)
    return list(session.scalars(query))


def counts_of(row: StatsDay) -> Counts:
    """Return the figures of a rollup row."""
    return Counts(**{name: getattr(row, name) for name in COUNT_FIELDS})
