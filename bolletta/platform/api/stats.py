"""``GET /api/v1/stats``: the figures of "Stat. ticket" for the tenant's systems (scope ``stats:read``).

Percentages are numbers rounded to two decimals, or ``null`` when their denominator is zero (the page's "–").
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import anyio
import msgspec
from litestar import Request, get
from litestar.params import FromQuery

from bolletta.platform.api.auth import authenticate
from bolletta.platform.api.errors import ApiProblem, problem_responses
from bolletta.platform.api.params import OptionalId, Year
from bolletta.platform.api.tokens import SCOPE_STATS_READ
from bolletta.platform.i18n.message import T_
from bolletta.platform.stats import figures as stats
from bolletta.platform.stats import rollup
from bolletta.platform.stats.rollup import Counts
from bolletta.platform.web.context import rt


class ChannelFigures(msgspec.Struct):
    """One channel's (or the total's) figures."""

    tickets: int
    share: float | None
    errors: int
    s2s_errors: int
    viewed: int
    viewed_rate: float | None
    """Viewed / (tickets − errors), in percent."""
    viewed_payable: int
    paid: int
    paid_rate: float | None
    """Bills paid online / viewed payable bills, in percent."""
    delivered: int
    timeouts: int
    pending: int


class PeriodFigures(msgspec.Struct):
    """One row of the per-period table: months ``first_month`` to ``last_month``."""

    first_month: int
    last_month: int
    total: ChannelFigures
    channels: dict[str, ChannelFigures]
    viewed_trend: int
    paid_trend: int


class JobFigures(msgspec.Struct):
    """One job's figures in the year."""

    job_id: int
    filename: str
    total: ChannelFigures


class StatsResponse(msgspec.Struct):
    """The year's figures, by channel, per period and per job."""

    year: int
    group: int
    job_id: int | None
    total: ChannelFigures
    channels: dict[str, ChannelFigures]
    best_viewed_channel: str | None
    best_paid_channel: str | None
    periods: list[PeriodFigures]
    jobs: list[JobFigures]


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _figures(counts: Counts, total: int) -> ChannelFigures:
    return ChannelFigures(
        tickets=counts.tickets, share=_number(stats.percent(counts.tickets, total)), errors=counts.errors,
        s2s_errors=counts.s2s_errors, viewed=counts.viewed, viewed_rate=_number(stats.viewed_rate(counts)),
        viewed_payable=counts.viewed_payable, paid=counts.paid, paid_rate=_number(stats.paid_rate(counts)),
        delivered=counts.delivered, timeouts=counts.timeouts, pending=counts.pending,
    )


def _channels(figures: stats.Figures) -> dict[str, ChannelFigures]:
    return {name: _figures(figures.channel(name), figures.total.tickets) for name in figures.shown_channels}


def build_response(page: stats.StatsPage) -> StatsResponse:
    """Convert a statistics page to its API form."""
    figures = page.figures
    return StatsResponse(
        year=page.year, group=page.group, job_id=page.job_id,
        total=_figures(figures.total, figures.total.tickets), channels=_channels(figures),
        best_viewed_channel=figures.best("viewed"), best_paid_channel=figures.best("paid"),
        periods=[PeriodFigures(first_month=row.first, last_month=row.last,
                               total=_figures(row.figures.total, row.figures.total.tickets),
                               channels=_channels(row.figures), viewed_trend=row.viewed_trend,
                               paid_trend=row.paid_trend) for row in page.periods],
        jobs=[JobFigures(job_id=row.job_id, filename=row.filename,
                         total=_figures(row.figures.total, row.figures.total.tickets)) for row in page.jobs],
    )


@get("/stats", name="api:stats", responses=problem_responses())
async def read_stats(request: Request[Any, Any, Any], year: Year = None, group: FromQuery[int] = 1,
                     job: OptionalId = None) -> StatsResponse:
    """Return the statistics of ``year`` (default: this year) by 1, 2 or 3 months, optionally of one job."""
    caller = await authenticate(request, SCOPE_STATS_READ)
    years = stats.selectable_years()
    chosen = year or years[0]
    if chosen not in years or group not in stats.GROUPINGS:
        raise ApiProblem(400, T_("Give a year from {first} to {last} and a group of 1, 2 or 3 months.",
                                 first=years[-1], last=years[0]))

    def compute() -> stats.StatsPage:
        with rt().db.tenant_session(caller.tenant) as session:
            rollup.refresh(session)
            return stats.year_page(session, chosen, group, job)

    return build_response(await anyio.to_thread.run_sync(compute))
