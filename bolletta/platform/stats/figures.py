"""The figures of "Stat. ticket" (spec section 8) from the daily rollup.

Every percentage keeps two decimals, rounded half up, and is ``None`` when its denominator is zero
(shown as "–"). Viewed percentages are net of errors: viewed / (tickets − errors). Payment
percentages are paid bills over viewed payable bills, each bill counted in the channel and on the
ticket date of the ticket through which it was first viewed.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_decimal
from sqlalchemy import select
from sqlalchemy.orm import Session

from bolletta.platform import clock
from bolletta.platform.clock import ROME
from bolletta.platform.db.models.tenant import Job, StatsDay
from bolletta.platform.stats.rollup import Counts, counts_of, read_days

CHANNELS = ("sms", "email", "whatsapp")
ALWAYS_SHOWN = ("sms", "email")
"""WhatsApp shows only when the period has WhatsApp tickets."""
YEARS_SHOWN = 5
GROUPINGS = (1, 2, 3)
"""Months per row of the period table: month, "bimestre", "trimestre"."""
CENT = Decimal("0.01")


def percent(numerator: int, denominator: int) -> Decimal | None:
    """``numerator / denominator`` as a percentage with two decimals; ``None`` for a zero denominator."""
    if denominator == 0:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(CENT, rounding=ROUND_HALF_UP)


def format_percent(value: Decimal | None, language: str = "it") -> str:
    """``48,46%`` in Italian, ``–`` for no value."""
    if value is None:
        return "–"
    return f"{format_decimal(value, format='#,##0.00', locale=language)}%"


def format_count(value: int, language: str = "it") -> str:
    """``29.965`` in Italian."""
    return format_decimal(value, format="#,##0", locale=language)


@dataclass
class Figures:
    """Totals and per-channel figures of one period, job or the whole selection."""

    total: Counts = field(default_factory=Counts)
    channels: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))

    def add(self, channel: str, counts: Counts) -> None:
        """Add a rollup row of ``channel``."""
        self.total.add(counts)
        self.channels[channel].add(counts)

    def channel(self, name: str) -> Counts:
        """Return the figures of channel ``name`` (zero when it has none)."""
        return self.channels.get(name) or Counts()

    @property
    def shown_channels(self) -> list[str]:
        """SMS and e-mail always, WhatsApp when used, then any other channel with tickets."""
        shown = list(ALWAYS_SHOWN)
        shown += [name for name in self.channels if name not in shown and self.channels[name].tickets]
        return sorted(shown, key=lambda name: CHANNELS.index(name) if name in CHANNELS else len(CHANNELS))

    def share(self, name: str) -> Decimal | None:
        """Return the channel's share of all tickets."""
        return percent(self.channel(name).tickets, self.total.tickets)

    def best(self, rate: str) -> str | None:
        """Return the channel with the highest ``viewed`` or ``paid`` percentage; ``None`` when none has one."""
        best_name, best_value = None, None
        for name in self.shown_channels:
            value = viewed_rate(self.channel(name)) if rate == "viewed" else paid_rate(self.channel(name))
            if value is not None and (best_value is None or value > best_value):
                best_name, best_value = name, value
        return best_name


def viewed_rate(counts: Counts) -> Decimal | None:
    """Viewed tickets over tickets less errors."""
    return percent(counts.viewed, counts.deliverable)


def paid_rate(counts: Counts) -> Decimal | None:
    """Bills paid online over viewed payable bills."""
    return percent(counts.paid, counts.viewed_payable)


def errors_rate(counts: Counts) -> Decimal | None:
    """Errors over tickets."""
    return percent(counts.errors, counts.tickets)


def figures_of(rows: Iterable[StatsDay]) -> Figures:
    """Sum rollup rows into one :class:`Figures`."""
    figures = Figures()
    for row in rows:
        figures.add(row.channel, counts_of(row))
    return figures


@dataclass
class PeriodRow:
    """One row of the per-period table: months ``first`` to ``last`` of the year."""

    first: int
    last: int
    figures: Figures
    viewed_trend: int = 0
    """1 up, -1 down, 0 same or not comparable, against the previous row."""
    paid_trend: int = 0


@dataclass
class JobRow:
    """One row of "Dati per emissione": a job with tickets in the year."""

    job_id: int
    filename: str
    figures: Figures


@dataclass
class StatsPage:
    """Everything "Stat. ticket" shows for a year (or one job of it)."""

    year: int
    group: int
    job_id: int | None
    figures: Figures
    periods: list[PeriodRow]
    jobs: list[JobRow]


def _trend(current: Decimal | None, previous: Decimal | None) -> int:
    if current is None or previous is None or current == previous:
        return 0
    return 1 if current > previous else -1


def period_rows(rows: list[StatsDay], group: int) -> list[PeriodRow]:
    """Split the year into groups of ``group`` months, each with its trend against the one before."""
    result = [PeriodRow(first=start, last=min(start + group - 1, 12), figures=Figures())
              for start in range(1, 13, group)]
    for row in rows:
        result[(row.day.month - 1) // group].figures.add(row.channel, counts_of(row))
    for previous, current in itertools.pairwise(result):
        current.viewed_trend = _trend(viewed_rate(current.figures.total), viewed_rate(previous.figures.total))
        current.paid_trend = _trend(paid_rate(current.figures.total), paid_rate(previous.figures.total))
    return result


def job_rows(session: Session, rows: list[StatsDay]) -> list[JobRow]:
    """Return one row per job with tickets among ``rows``, newest job first."""
    by_job: dict[int, Figures] = defaultdict(Figures)
    for row in rows:
        by_job[row.job_id].add(row.channel, counts_of(row))
    query = select(Job.id, Job.filename).where(Job.id.in_(list(by_job)))
    names: dict[int, str] = {job: name for job, name in session.execute(query)}
    return [JobRow(job_id=job_id, filename=names.get(job_id, ""), figures=figures)
            for job_id, figures in sorted(by_job.items(), reverse=True)]


def year_page(session: Session, year: int, group: int = 1, job_id: int | None = None) -> StatsPage:
    """Compute the figures of ``year`` (Rome ticket dates), or of one job's tickets of that year."""
    if group not in GROUPINGS:
        raise ValueError(f"group must be one of {GROUPINGS}, not {group}")
    rows = read_days(session, date(year, 1, 1), date(year, 12, 31), job_id)
    return StatsPage(year=year, group=group, job_id=job_id, figures=figures_of(rows),
                     periods=period_rows(rows, group), jobs=job_rows(session, rows) if job_id is None else [])


def month_figures(session: Session, year: int, month: int) -> Figures:
    """Compute the figures of one month (the dashboard's current month)."""
    last = date(year + (month == 12), month % 12 + 1, 1)
    rows = [row for row in read_days(session, date(year, month, 1), last) if row.day < last]
    return figures_of(rows)


def selectable_years() -> list[int]:
    """Return the current year (in Rome) and the four before it, newest first."""
    current = clock.now().astimezone(ROME).year
    return [current - offset for offset in range(YEARS_SHOWN)]
