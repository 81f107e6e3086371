"""The "Dashboard" landing page, the staff language switch.

The dashboard shows jobs awaiting approval or dispatch, dispatches in progress with their progress,
the latest jobs, and the current month's tickets with % viewed and % paid from the statistics rollup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import anyio
from litestar import Request, Response, Router, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect
from sqlalchemy import func, select

from bolletta.platform import clock
from bolletta.platform.clock import ROME
from bolletta.platform.db.models.tenant import Job, Ticket
from bolletta.platform.i18n.catalog import SUPPORTED_LANGUAGES
from bolletta.platform.jobs import states
from bolletta.platform.office.access import LANGUAGE_KEY, page, require_staff, staff_of
from bolletta.platform.office.routes import _tenant
from bolletta.platform.stats import figures as stats
from bolletta.platform.stats import rollup
from bolletta.platform.web.context import rt

FormData = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
WAITING_STATES = (states.PARSED, states.TEST_SENT, states.APPROVED)
RUNNING_STATES = (states.DISPATCHING, states.PAUSED)
LATEST_JOBS = 10


@dataclass(frozen=True)
class Progress:
    """A dispatch in progress: tickets issued so far out of the accepted bills."""

    job: Job
    issued: int

    @property
    def remaining(self) -> int:
        """Bills still without a ticket."""
        return max(self.job.bills_accepted - self.issued, 0)


def _dashboard(tenant: str) -> dict[str, Any]:
    today = clock.now().astimezone(ROME)
    with rt().db.tenant_session(tenant) as session:
        waiting = session.scalars(select(Job).where(Job.state.in_(WAITING_STATES)).order_by(Job.id.desc())).all()
        running = session.scalars(select(Job).where(Job.state.in_(RUNNING_STATES)).order_by(Job.id)).all()
        issued = dict(session.execute(
            select(Ticket.job_id, func.count(Ticket.id))
            .where(Ticket.job_id.in_([job.id for job in running]), Ticket.is_test.is_(False))
            .group_by(Ticket.job_id)
        ).all()) if running else {}
        latest = session.scalars(select(Job).order_by(Job.id.desc()).limit(LATEST_JOBS)).all()
        rollup.refresh(session)
        month = stats.month_figures(session, today.year, today.month)
        session.expunge_all()
    return {"waiting": waiting, "running": [Progress(job, issued.get(job.id, 0)) for job in running],
            "jobs": latest, "month": month, "month_label": today.strftime("%m/%Y")}


@get("/", name="office:dashboard", guards=[require_staff])
async def dashboard(request: Request[Any, Any, Any]) -> Response[str]:
    """Render the landing page ("Dashboard")."""
    tenant = await _tenant(staff_of(request))
    context = await anyio.to_thread.run_sync(_dashboard, tenant.slug)
    return page(request, "office/dashboard.html", tenant, stats=stats, **context)


@post("/language", name="office:language", guards=[require_staff])
async def set_language(request: Request[Any, Any, Any], data: FormData) -> Response[Any]:
    """Switch the backoffice language for this session and return to the page."""
    language = data.get("language", "")
    if language in SUPPORTED_LANGUAGES:
        request.set_session({**(request.session or {}), LANGUAGE_KEY: language})
    target = data.get("next", "")
    if not target.startswith("/office/") or target.startswith("//"):
        target = "/office/"
    return Redirect(target, status_code=303)


def dashboard_router() -> Router:
    """Build the dashboard and language routes under ``/office``."""
    return Router(path="/office", route_handlers=[dashboard, set_language])
