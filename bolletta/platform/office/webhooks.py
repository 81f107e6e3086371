"""The tenant admin's "Webhook" page: each endpoint's deliveries with their attempts, and replay by hand.

Deliveries are listed newest first, one endpoint at a time, with the status, the number of attempts,
the last attempt's HTTP status or error, and every attempt behind a disclosure. "Invia di nuovo"
calls :func:`bolletta.platform.webhooks.delivery.replay`, which audits it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl

import anyio
from litestar import Request, Response, Router, get, post
from litestar.datastructures import CacheControlHeader
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect
from sqlalchemy import func, select

from bolletta.platform.db.models.tenant import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from bolletta.platform.office.access import page, require_admin, staff_of
from bolletta.platform.office.listing import Paging, Query, link, read_paging
from bolletta.platform.office.routes import _tenant
from bolletta.platform.web.context import rt
from bolletta.platform.webhooks.delivery import replay
from bolletta.platform.webhooks.endpoints import EVENTS, WebhookError, add_endpoint, remove_endpoint

logger = logging.getLogger(__name__)

NO_STORE = CacheControlHeader(no_store=True)
"""The page that shows a new endpoint's signing secret must not be kept by the browser or a proxy."""

DELIVERY_STATUSES = ("pending", "delivered", "failed")
BACK_KEYS = frozenset({"endpoint", "status", "page"})
"""Query fields of the list that a replay form may carry back."""
FormData = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


@dataclass(frozen=True)
class DeliveryRow:
    """A delivery with its attempts, oldest attempt first."""

    delivery: WebhookDelivery
    attempts: list[WebhookAttempt]

    @property
    def last_attempt(self) -> WebhookAttempt | None:
        """The newest attempt, or ``None`` before the first."""
        return self.attempts[-1] if self.attempts else None


@dataclass(frozen=True)
class DeliveryPage:
    """The endpoints, the one shown, and one page of its deliveries."""

    endpoints: list[WebhookEndpoint]
    endpoint: WebhookEndpoint | None
    rows: list[DeliveryRow]
    total: int


def load_deliveries(tenant: str, endpoint_id: int | None, status: str | None, paging: Paging) -> DeliveryPage:
    """Load the tenant's endpoints and one page of the deliveries of ``endpoint_id`` (default: the first)."""
    with rt().db.tenant_session(tenant) as session:
        endpoints = list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))
        chosen = next((item for item in endpoints if item.id == endpoint_id), None)
        if chosen is None and endpoint_id is None and endpoints:
            chosen = endpoints[0]
        if chosen is None:
            session.expunge_all()
            return DeliveryPage(endpoints=endpoints, endpoint=None, rows=[], total=0)
        conditions: list[Any] = [WebhookDelivery.endpoint_id == chosen.id]
        if status:
            conditions.append(WebhookDelivery.status == status)
        total = session.scalar(select(func.count(WebhookDelivery.id)).where(*conditions)) or 0
        order = WebhookDelivery.id.desc() if paging.descending else WebhookDelivery.id.asc()
        deliveries = list(session.scalars(select(WebhookDelivery).where(*conditions).order_by(order)
                                          .limit(paging.size).offset(paging.offset)))
        attempts: dict[int, list[WebhookAttempt]] = defaultdict(list)
        ids = [delivery.id for delivery in deliveries]
        if ids:
            query = select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(ids)).order_by(WebhookAttempt.id)
            for attempt in session.scalars(query):
                attempts[attempt.delivery_id].append(attempt)
        session.expunge_all()
    rows = [DeliveryRow(delivery=delivery, attempts=attempts[delivery.id]) for delivery in deliveries]
    return DeliveryPage(endpoints=endpoints, endpoint=chosen, rows=rows, total=total)


@get("/webhooks", name="office:webhooks", guards=[require_admin])
async def webhook_deliveries(request: Request[Any, Any, Any]) -> Response[str]:
    """List an endpoint's deliveries with their attempts, filtered by status ("Webhook")."""
    tenant = await _tenant(staff_of(request))
    query = Query(dict(request.query_params))
    endpoint_id = query.integer("endpoint")
    status = query.choice("status", DELIVERY_STATUSES)
    paging = read_paging(query, ("id",), "id")
    found = DeliveryPage(endpoints=[], endpoint=None, rows=[], total=0)
    if not query.errors:
        found = await anyio.to_thread.run_sync(load_deliveries, tenant.slug, endpoint_id, status, paging)
    params = {"endpoint": found.endpoint.id if found.endpoint else None, "status": status}
    return page(request, "office/webhooks.html", tenant, found=found, paging=paging, pages=paging.pages(found.total),
                params=params, link=link, errors=query.errors, statuses=DELIVERY_STATUSES,
                error=request.query_params.get("error"), replayed=request.query_params.get("replayed"),
                new_secret=None, events=EVENTS)


@post("/webhooks/deliveries/{delivery_id:int}/replay", name="office:webhook-replay", guards=[require_admin])
async def replay_delivery(request: Request[Any, Any, Any], delivery_id: FromPath[int],
                          data: FormData) -> Response[Any]:
    """Send a delivery again ("Invia di nuovo"), whatever its status; audited.

    The form's ``back`` field carries the list's query string, so the admin returns to the same page.
    """
    staff = staff_of(request)
    assert staff.tenant is not None
    back_params = {key: value for key, value in parse_qsl(data.get("back", "")) if key in BACK_KEYS}
    try:
        await anyio.to_thread.run_sync(lambda: replay(rt(), staff.tenant or "", delivery_id, replayed_by=staff.actor,
                                                      user_id=staff.user_id, ip=staff.ip))
    except WebhookError as exc:
        logger.warning("tenant %s: replay of webhook delivery %d by %s rejected: %s", staff.tenant, delivery_id,
                       staff.username, exc)
        return Redirect(f"/office/webhooks?{link(back_params, error='replay')}", status_code=303)
    logger.info("tenant %s: webhook delivery %d replayed by %s", staff.tenant, delivery_id, staff.username)
    return Redirect(f"/office/webhooks?{link(back_params, replayed=delivery_id)}", status_code=303)


@post("/webhooks/endpoints", name="office:webhook-add", guards=[require_admin], cache_control=NO_STORE)
async def add_webhook_endpoint(request: Request[Any, Any, Any]) -> Response[Any]:
    """Register an endpoint URL for the chosen events and show its signing secret this one time."""
    staff = staff_of(request)
    tenant = await _tenant(staff)
    form = await request.form()
    url = str(form.get("url", "")).strip()[:2000]
    events = [str(value) for value in form.getall("event")] if "event" in form else []
    try:
        created = await anyio.to_thread.run_sync(
            lambda: add_endpoint(rt(), tenant.slug, url, events, added_by=staff.actor))
    except WebhookError as exc:
        logger.info("tenant %s: webhook endpoint not added by %s: %s", tenant.slug, staff.username, exc)
        return Redirect("/office/webhooks?error=endpoint", status_code=303)
    found = await anyio.to_thread.run_sync(load_deliveries, tenant.slug, created.id, None,
                                           read_paging(Query({}), ("id",), "id"))
    return page(request, "office/webhooks.html", tenant, found=found, paging=read_paging(Query({}), ("id",), "id"),
                pages=1, params={"endpoint": created.id, "status": None}, link=link, errors=[],
                statuses=DELIVERY_STATUSES, error=None, replayed=None, new_secret=created.secret, events=EVENTS)


@post("/webhooks/endpoints/{endpoint_id:int}/remove", name="office:webhook-remove", guards=[require_admin])
async def remove_webhook_endpoint(request: Request[Any, Any, Any], endpoint_id: FromPath[int]) -> Response[Any]:
    """Stop sending to an endpoint; its deliveries stay listed."""
    staff = staff_of(request)
    tenant = await _tenant(staff)
    try:
        await anyio.to_thread.run_sync(
            lambda: remove_endpoint(rt(), tenant.slug, endpoint_id, removed_by=staff.actor))
    except WebhookError as exc:
        raise NotFoundException(str(exc)) from exc
    return Redirect(f"/office/webhooks?endpoint={endpoint_id}", status_code=303)


def webhooks_router() -> Router:
    """Build the tenant admin's webhook routes under ``/office``."""
    return Router(path="/office", route_handlers=[webhook_deliveries, replay_delivery, add_webhook_endpoint,
                                                  remove_webhook_endpoint])
