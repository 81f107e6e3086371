"""Recording an event for every endpoint subscribed to it, in the transaction of the change itself."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bolletta.platform import clock, tasks
from bolletta.platform.db.models.tenant import WebhookDelivery, WebhookEndpoint

DELIVER_ACTOR = "deliver_webhook"


def emit(session: Session, event: str, object_key: str, data: dict[str, Any]) -> int:
    """Queue ``event`` about ``object_key`` (such as ``job:12``) for each subscribed endpoint.

    The deliveries commit or roll back with the session, so a change that is undone sends nothing.
    Returns how many deliveries were queued.
    """
    endpoints = [endpoint for endpoint in session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active))
                 if event in endpoint.events]
    if not endpoints:
        return 0
    now = clock.now()
    body = json.dumps({
        "id": str(uuid.uuid4()), "event": event, "object": object_key, "tenant": session.info.get("tenant"),
        "occurred_at": now.isoformat(), "data": data,
    }, separators=(",", ":"), sort_keys=True, default=str)
    deliveries = [WebhookDelivery(endpoint_id=endpoint.id, event=event, object_key=object_key, body=body,
                                  status="pending", attempts=0, created_at=now) for endpoint in endpoints]
    session.add_all(deliveries)
    session.flush()
    tenant = session.info["tenant"]
    for delivery in deliveries:
        tasks.defer(session, DELIVER_ACTOR, tenant, delivery.id)
    return len(deliveries)
