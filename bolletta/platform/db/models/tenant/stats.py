from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bolletta.platform.db.base import TenantBase


class StatsDay(TenantBase):
    """Ticket figures of one Europe/Rome day, job and channel, test tickets excluded.

    A rollup of tickets, their latest messages, first views and online payments, rebuilt for the
    days that changed (see :mod:`bolletta.platform.stats.rollup`), so "Stat. ticket" never scans
    every ticket.
    """

    __tablename__ = "stats_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    job_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    tickets: Mapped[int] = mapped_column(Integer)
    errors: Mapped[int] = mapped_column(Integer)
    """Tickets whose latest message is ``failed`` or ``rejected``."""
    s2s_errors: Mapped[int] = mapped_column(Integer)
    """Tickets whose latest message is ``rejected``."""
    viewed: Mapped[int] = mapped_column(Integer)
    delivered: Mapped[int] = mapped_column(Integer)
    timeouts: Mapped[int] = mapped_column(Integer)
    viewed_payable: Mapped[int] = mapped_column(Integer)
    """Payable bills first viewed through a ticket of this day, job and channel."""
    paid: Mapped[int] = mapped_column(Integer)
    """Of those, the bills with a completed online payment."""


class StatsRefresh(TenantBase):
    """The one row holding the time up to which the rollup saw every change."""

    __tablename__ = "stats_refresh"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mark: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
