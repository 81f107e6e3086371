"""Sending one delivery: signed POST, attempts recorded, retries with backoff, order kept per object.

Deliveries of one object to one endpoint go out in id order: a delivery waits while an earlier one
for the same endpoint and object is still pending, and each delivery that ends (delivered or given
up) queues the next. The scheduler retries a failed attempt after 30 s, then after twice as long
each time, at most an hour apart. A day after the first attempt, the delivery is marked failed.
Delivery is at least once: a receiver that answers after the timeout gets the same delivery again,
with the same ``Bolletta-Delivery`` id.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bolletta.platform import clock, tasks
from bolletta.platform.db.models.tenant import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from bolletta.platform.runtime import Runtime
from bolletta.platform.sealing import unseal
from bolletta.platform.webhooks import signing
from bolletta.platform.webhooks.events import DELIVER_ACTOR
from bolletta.tenants.registry import all_tenant_slugs

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY_GAP = timedelta(hours=1)
RETRY_WINDOW = timedelta(days=1)
CLAIM_MARGIN = timedelta(minutes=1)


def retry_delay(attempts: int) -> timedelta:
    """Return the wait after the ``attempts``-th failed attempt: 30 s, 60 s, 120 s... at most an hour."""
    return min(FIRST_RETRY * (2 ** max(0, attempts - 1)), MAX_RETRY_GAP)


def deliver(rt: Runtime, tenant: str, delivery_id: int) -> None:
    """Make one attempt at a pending delivery, unless an earlier one of the same object is pending."""
    with rt.db.tenant_session(tenant) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.status != "pending":
            return
        if _earlier_pending(session, delivery) is not None:
            return
        endpoint = session.get_one(WebhookEndpoint, delivery.endpoint_id)
        if not endpoint.active or not _claim(session, delivery_id):
            return
        url, secret, body, event = endpoint.url, unseal(rt, endpoint.secret_sealed), delivery.body, delivery.event

    status_code, error = None, ""
    started = time.monotonic()
    payload = body.encode()
    headers = {
        "Content-Type": "application/json", signing.EVENT_HEADER: event, signing.DELIVERY_HEADER: str(delivery_id),
        signing.SIGNATURE_HEADER: signing.signature(secret, int(clock.now().timestamp()), payload),
        "User-Agent": "BollettaSmart-Webhooks/1",
    }
    try:
        response = httpx.post(url, content=payload, headers=headers, timeout=TIMEOUT_SECONDS, follow_redirects=False)
        status_code = response.status_code
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}"
    duration_ms = int((time.monotonic() - started) * 1000)
    _record(rt, tenant, delivery_id, status_code, error, duration_ms)


def _record(rt: Runtime, tenant: str, delivery_id: int, status_code: int | None, error: str, duration_ms: int) -> None:
    now = clock.now()
    with rt.db.tenant_session(tenant) as session:
        delivery = session.get_one(WebhookDelivery, delivery_id)
        session.add(WebhookAttempt(delivery_id=delivery_id, at=now, status_code=status_code, error=error,
                                   duration_ms=duration_ms, detail={}))
        delivery.attempts += 1
        if delivery.retry_until is None:
            delivery.retry_until = now + RETRY_WINDOW
        if status_code is not None and 200 <= status_code < 300:
            delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", now, None
            _queue_next(session, tenant, delivery)
        elif now >= clock.as_utc(delivery.retry_until):
            delivery.status, delivery.next_attempt_at = "failed", None
            logger.warning("webhook delivery %d given up after %d attempts", delivery_id, delivery.attempts)
            _queue_next(session, tenant, delivery)
        else:
            delivery.next_attempt_at = now + retry_delay(delivery.attempts)
            logger.info("webhook delivery %d failed (%s), next attempt at %s", delivery_id,
                        status_code or error, delivery.next_attempt_at.isoformat())
        session.commit()


def _claim(session: Session, delivery_id: int) -> bool:
    """Take the delivery for one attempt, so a second message for it (the event's own and the one
    queued when the earlier delivery ended) sends nothing. The claim is a lease: if this worker dies
    mid-attempt, the scheduler queues the delivery again once the lease has passed."""
    now = clock.now()
    taken = session.execute(update(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending",
        or_(WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.next_attempt_at <= now),
    ).values(next_attempt_at=now + timedelta(seconds=TIMEOUT_SECONDS) + CLAIM_MARGIN)
        .execution_options(synchronize_session=False))
    session.commit()
    return bool(getattr(taken, "rowcount", 0) == 1)


def _earlier_pending(session: Session, delivery: WebhookDelivery) -> int | None:
    return session.scalar(
        select(WebhookDelivery.id).where(
            WebhookDelivery.endpoint_id == delivery.endpoint_id, WebhookDelivery.object_key == delivery.object_key,
            WebhookDelivery.status == "pending", WebhookDelivery.id < delivery.id,
        ).limit(1)
    )


def _queue_next(session: Session, tenant: str, delivery: WebhookDelivery) -> None:
    following = session.scalar(
        select(WebhookDelivery.id).where(
            WebhookDelivery.endpoint_id == delivery.endpoint_id, WebhookDelivery.object_key == delivery.object_key,
            WebhookDelivery.status == "pending", WebhookDelivery.id > delivery.id,
        ).order_by(WebhookDelivery.id).limit(1)
    )
    if following is not None:
        tasks.defer(session, DELIVER_ACTOR, tenant, following)


def defer_due_retries(rt: Runtime) -> int:
    """Queue an attempt for every delivery whose retry time has come; return how many were queued.

    Taking a delivery clears its ``next_attempt_at`` with a conditional update, so two schedulers
    never queue the same retry.
    """
    queued = 0
    now = clock.now()
    for slug in all_tenant_slugs(rt.db):
        with rt.db.tenant_session(slug) as session:
            due = session.execute(select(WebhookDelivery.id, WebhookDelivery.next_attempt_at).where(
                WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)).all()
            for delivery_id, due_at in due:
                taken = session.execute(update(WebhookDelivery).where(
                    WebhookDelivery.id == delivery_id, WebhookDelivery.next_attempt_at == due_at,
                ).values(next_attempt_at=None).execution_options(synchronize_session=False))
                if getattr(taken, "rowcount", 0) == 1:
                    tasks.defer(session, DELIVER_ACTOR, slug, delivery_id)
                    queued += 1
            session.commit()
    return queued


def replay(rt: Runtime, tenant: str, delivery_id: int, *, replayed_by: str, user_id: int | None = None,
           ip: str = "") -> None:
    """Send a delivery again by hand (after a receiver's outage, say), whatever its status.

    Raises:
        WebhookError: no delivery has ``delivery_id``.
    """
    from bolletta.platform import audit
    from bolletta.platform.webhooks.endpoints import WebhookError

    with rt.db.tenant_session(tenant) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            raise WebhookError(f"Webhook delivery {delivery_id} not found for tenant {tenant!r}.")
        delivery.status, delivery.next_attempt_at, delivery.retry_until = "pending", None, None
        audit.record(session, actor=replayed_by, user_id=user_id, action="webhook.delivery_replayed",
                     target=f"webhook_delivery:{delivery_id}", ip=ip)
        tasks.defer(session, DELIVER_ACTOR, tenant, delivery_id)
        session.commit()
