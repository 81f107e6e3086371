"""The Litestar application: wiring only."""

from __future__ import annotations

import gc
import logging
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Response, get
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.types import Scope

from bolletta.platform.admin.routes import console_routers
from bolletta.platform.api.errors import ApiProblem
from bolletta.platform.api.routes import api_openapi_config, api_router
from bolletta.platform.dispatch.hooks import channel_callback, channel_handshake
from bolletta.platform.dispatch.routes import dispatch_progress, pause_dispatch, resume_dispatch
from bolletta.platform.dispatch.unsubscribe import one_click_unsubscribe, unsubscribe_page
from bolletta.platform.health import health_live, health_ready
from bolletta.platform.metrics import MetricsController, register_collector
from bolletta.platform.office import report as office_report
from bolletta.platform.office import routes as office
from bolletta.platform.office.admin import admin_router
from bolletta.platform.office.api_tokens import api_tokens_router
from bolletta.platform.office.contacts import contacts_router
from bolletta.platform.office.customer_data import customer_data_router
from bolletta.platform.office.dashboard import dashboard_router
from bolletta.platform.office.export_routes import exports_router
from bolletta.platform.office.lists import lists_router
from bolletta.platform.office.mailbox import mailbox_router
from bolletta.platform.office.password_reset import password_reset_router
from bolletta.platform.office.settings import office_settings_router
from bolletta.platform.office.stats import stats_router
from bolletta.platform.office.tickets import tickets_router
from bolletta.platform.office.two_factor import two_factor_router
from bolletta.platform.office.two_factor_pages import two_factor_pages_router
from bolletta.platform.office.upload import upload_router
from bolletta.platform.office.webhooks import webhooks_router
from bolletta.platform.payments.hooks import gateway_notification
from bolletta.platform.payments.returns import payment_cancel, payment_form, payment_return
from bolletta.platform.portal import routes as portal
from bolletta.platform.portal import sandbox_page, view_events
from bolletta.platform.runtime import Runtime
from bolletta.platform.web.csrf import csrf_config
from bolletta.platform.web.http_metrics import count_unmatched, http_metrics
from bolletta.platform.web.security import add_security_headers
from bolletta.platform.web.session_cookie import ChangedOnlyCookieConfig
from bolletta.platform.web.tenancy import TenancyRouter
from bolletta.platform.web.theme import tenant_font, tenant_logo, tenant_theme

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parents[1] / "themes" / "base" / "static"
SESSION_MAX_AGE_SECONDS = 8 * 60 * 60


@get("/healthz", name="health", exclude_from_csrf=True)
async def health() -> dict[str, str]:
    """Liveness probe."""
    return {"status": "ok"}


def _unauthorized(request: Request[Any, Any, Any], _exc: NotAuthorizedException) -> Response[Any]:
    if request.url.path.startswith("/admin"):
        return Redirect("/admin/login", status_code=303)
    return Redirect("/office/login", status_code=303)


def _log_server_error(exception: Exception, scope: Scope) -> None:
    """Log an exception that becomes an HTTP 500: with ``logging_config=None`` Litestar logs none.

    Only the exception's class and the route template are logged: the message of a database error
    carries the statement's parameters, which may hold a phone number or an e-mail address.
    """
    if isinstance(exception, HTTPException) and exception.status_code < 500:
        return
    if isinstance(exception, ApiProblem) and exception.status < 500:
        return  # the API router turns it into its problem response
    handler = scope.get("route_handler")
    route = ",".join(sorted(handler.paths)) if handler is not None else "(no route)"
    kind = type(exception)
    logger.error("HTTP 500: %s.%s on %s %s", kind.__module__, kind.__qualname__, scope.get("method", ""), route)


def create_litestar(rt: Runtime) -> Litestar:
    """The Litestar app without the host-based area wrapper (tests of single routes use it)."""
    settings = rt.settings
    cookie_prefix = "__Host-" if settings.cookie_secure else ""
    session_config = ChangedOnlyCookieConfig(
        secret=rt.session_key, key=f"{cookie_prefix}bolletta", secure=settings.cookie_secure,
        httponly=True, samesite="lax", max_age=SESSION_MAX_AGE_SECONDS,
    )

    # A coroutine: Litestar runs a plain function hook in its thread pool, one thread hop per request.
    async def after_request(response: Response[Any]) -> Response[Any]:
        add_security_headers(response, customer_page=False, hsts=settings.cookie_secure)
        return response

    register_collector()
    return Litestar(
        route_handlers=[
            health, health_live, health_ready, MetricsController,
            portal.open_ticket, portal.probe_ticket, portal.bill_summary, portal.bill_pdf, portal.pay_bill,
            portal.bill_amounts, portal.bill_consumption, portal.bill_data, portal.bill_calendar,
            portal.bill_calendar_link, portal.request_new_link, portal.bill_speech, portal.bill_speech_browser,
            sandbox_page.sandbox_page, sandbox_page.sandbox_submit, tenant_theme, tenant_font, tenant_logo,
            gateway_notification, payment_return, payment_cancel, payment_form,
            channel_callback, channel_handshake,
            dispatch_progress, pause_dispatch, resume_dispatch, one_click_unsubscribe, unsubscribe_page,
            office.login_page, office.login_submit, office.logout, office.job_detail,
            office.approve_job, office.reject_job, office.start_job,
            office_report.job_report_csv,
            upload_router(settings), contacts_router(settings), api_router(settings),
            dashboard_router(), tickets_router(), stats_router(), exports_router(),
            lists_router(), mailbox_router(), admin_router(), customer_data_router(), two_factor_router(),
            two_factor_pages_router(), password_reset_router(), webhooks_router(),
            office_settings_router(), api_tokens_router(), *console_routers(),
            create_static_files_router(path="/static", directories=[STATIC_DIR], name="static"),
        ],
        middleware=[http_metrics, session_config.middleware],
        csrf_config=csrf_config(rt),
        after_request=after_request,
        after_exception=[_log_server_error, count_unmatched],
        # Only with lifespan events on; ``bolletta serve`` runs without them, and the page views still
        # queued then are written by the ``atexit`` hook of ``view_events``.
        on_shutdown=[view_events.flush],
        exception_handlers={NotAuthorizedException: _unauthorized, portal.TenantUnavailable: portal.unavailable_page},
        openapi_config=api_openapi_config(),
        # Only the API router opts in: the HTML pages, callbacks and probes are no part of the API schema.
        include_in_schema=False,
        debug=False,
        # The process configures logging (the CLI, or uvicorn in production); Litestar must not
        # add its own root handler at INFO level on top.
        logging_config=None,
    )


def freeze_startup_objects() -> None:
    """Exclude every object alive now from the garbage collector's full collections (``gc.freeze``).

    Call it once the app is built, just before serving. The imported modules, the routes and the
    templates then make up most of the objects a web process tracks (about 270,000 in the process
    ``bench/portal.py`` profiles), and each full collection scanned them all: 130 to 170 ms under
    the profiler, during which the process served no request. Objects made later are collected as
    before. A test process should not call it, since frozen objects are never freed.
    """
    gc.collect()
    gc.freeze()


def create_app(rt: Runtime) -> TenancyRouter:
    """The ASGI application served by uvicorn: Litestar behind the host-based area router."""
    return TenancyRouter(create_litestar(rt), rt)
