"""The "Stat. ticket" page: year buttons, "Dati per emissione", "Dati per mese", "aggiorna"."""

from __future__ import annotations

from datetime import date
from typing import Any

import anyio
from babel.dates import format_date
from litestar import Request, Response, Router, get, post
from litestar.response import Redirect

from bolletta.platform.i18n.catalog import gettext
from bolletta.platform.i18n.dynamic_ids import N_
from bolletta.platform.office.access import page, require_staff, staff_language, staff_of
from bolletta.platform.office.listing import Query, link
from bolletta.platform.office.routes import _tenant
from bolletta.platform.stats import charts, rollup
from bolletta.platform.stats import figures as stats
from bolletta.platform.web.context import rt

VIEWS = ("month", "jobs")


def period_label(row: stats.PeriodRow, year: int, language: str) -> str:
    """``gen`` for a month, ``gen–feb`` for two or three months (the locale's short month names)."""
    def name(month: int) -> str:
        return format_date(date(year, month, 1), "LLL", locale=language)
    return name(row.first) if row.first == row.last else f"{name(row.first)}–{name(row.last)}"


def _compute(tenant: str, year: int, group: int, job_id: int | None) -> stats.StatsPage:
    with rt().db.tenant_session(tenant) as session:
        rollup.refresh(session)
        return stats.year_page(session, year, group, job_id)


def read_selection(query: Query) -> tuple[int, int, str, int | None]:
    """Year, months per period row, view and job from the query string (defaults: this year, month)."""
    years = stats.selectable_years()
    year = query.integer("year") or years[0]
    if year not in years:
        year = years[0]
    group = query.integer("group") or 1
    if group not in stats.GROUPINGS:
        group = 1
    view = query.choice("view", VIEWS) or "month"
    return year, group, view, query.integer("job")


@get("/stats", name="office:stats", guards=[require_staff])
async def stats_page(request: Request[Any, Any, Any]) -> Response[str]:
    """Render the statistics of the chosen year, per month or per job, or of one job."""
    staff = staff_of(request)
    tenant = await _tenant(staff)
    query = Query(dict(request.query_params))
    year, group, view, job_id = read_selection(query)
    result = await anyio.to_thread.run_sync(_compute, tenant.slug, year, group, job_id)
    language = staff_language(request)
    labels = [period_label(row, year, language) for row in result.periods]

    def t(message: str) -> str:
        return gettext(language, message)

    names = {"sms": "SMS", "email": "EMAIL", "errors": t(N_("Errors")), "viewed": t(N_("Viewed")),
             "rate_viewed": t(N_("Viewed rate")), "rate_sms": t(N_("Viewed rate SMS")),
             "rate_email": t(N_("Viewed rate e-mail")), "rate_paid": t(N_("Payment rate"))}
    return page(
        request, "office/stats.html", tenant, result=result, years=stats.selectable_years(), view=view,
        labels=labels, stats=stats, link=link, params={"year": year, "group": group, "view": view, "job": job_id},
        volume_chart=charts.volume_chart(result.periods, labels, names, t(N_("Tickets per period"))),
        rate_chart=charts.rate_chart(result.periods, labels, names, t(N_("Percentages per period"))),
    )


@post("/stats/refresh", name="office:stats-refresh", guards=[require_staff])
async def stats_refresh(request: Request[Any, Any, Any]) -> Response[Any]:
    """"Aggiorna": bring the figures up to date and show the same selection again."""
    staff = staff_of(request)
    tenant = await _tenant(staff)

    def refresh() -> None:
        with rt().db.tenant_session(tenant.slug) as session:
            rollup.refresh(session)

    await anyio.to_thread.run_sync(refresh)
    year, group, view, job_id = read_selection(Query(dict(request.query_params)))
    return Redirect(f"/office/stats?{link({'year': year, 'group': group, 'view': view, 'job': job_id})}",
                    status_code=303)


def stats_router() -> Router:
    """Build the statistics routes under ``/office``."""
    return Router(path="/office", route_handlers=[stats_page, stats_refresh])
