"""Registering the URLs that receive a tenant's events."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select

from bolletta.platform import audit, clock
from bolletta.platform.db.models.tenant import WebhookEndpoint
from bolletta.platform.errors import BollettaError
from bolletta.platform.runtime import Runtime
from bolletta.platform.sealing import seal

EVENTS = ("job.state_changed", "ticket.delivery_changed", "payment.completed")


class WebhookError(BollettaError):
    """Raised for an endpoint or delivery that cannot be registered or found."""


@dataclass(frozen=True)
class NewEndpoint:
    """An endpoint just added, with the signing secret that is shown this once."""

    id: int
    secret: str


def add_endpoint(rt: Runtime, tenant: str, url: str, events: list[str], *, added_by: str,
                 allow_http: bool = False) -> NewEndpoint:
    """Register ``url`` for ``events`` and return it with a new signing secret.

    Raises:
        WebhookError: the URL is not an absolute ``https`` URL (``http`` only with ``allow_http``,
            for tests and private networks), or an event is unknown.
    """
    parts = urlsplit(url)
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes or not parts.hostname:
        raise WebhookError(f"Webhook URL {url!r} is not valid: use an absolute https:// URL.")
    unknown = sorted(set(events) - set(EVENTS))
    if not events or unknown:
        raise WebhookError(
            f"Webhook events {unknown or events!r} are not valid: choose from {', '.join(EVENTS)}."
        )
    secret = "whsec_" + secrets.token_urlsafe(32)
    with rt.db.tenant_session(tenant) as session:
        endpoint = WebhookEndpoint(url=url, events=sorted(set(events)), secret_sealed=seal(rt, secret),
                                   active=True, created_at=clock.now(), created_by=added_by)
        session.add(endpoint)
        session.flush()
        audit.record(session, actor=added_by, action="webhook.endpoint_added", target=f"webhook:{endpoint.id}",
                     detail={"url": url, "events": endpoint.events})
        session.commit()
        return NewEndpoint(id=endpoint.id, secret=secret)


def remove_endpoint(rt: Runtime, tenant: str, endpoint_id: int, *, removed_by: str) -> None:
    """Stop sending to an endpoint; its deliveries stay for the record.

    Raises:
        WebhookError: no endpoint has ``endpoint_id``.
    """
    with rt.db.tenant_session(tenant) as session:
        endpoint = session.get(WebhookEndpoint, endpoint_id)
        if endpoint is None:
            raise WebhookError(f"Webhook endpoint {endpoint_id} not found for tenant {tenant!r}.")
        endpoint.active = False
        audit.record(session, actor=removed_by, action="webhook.endpoint_removed", target=f"webhook:{endpoint_id}")
        session.commit()


def list_endpoints(rt: Runtime, tenant: str) -> list[WebhookEndpoint]:
    """Return the tenant's endpoints, newest first."""
    with rt.db.tenant_session(tenant) as session:
        return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id.desc())))
