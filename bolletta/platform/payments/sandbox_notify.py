"""The sandbox gateway's provider side: it posts a signed notification to the platform's webhook,
over HTTP at ``BOLLETTA_PUBLIC_BASE_URL``, as a real provider would."""

from __future__ import annotations

import logging

import httpx
from sqlalchemy import select

from bolletta.gateways.sandbox import SandboxGateway
from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Payment
from bolletta.platform.payments.gateways import gateway_for
from bolletta.platform.runtime import Runtime
from bolletta.tenants.registry import get_tenant, tenant_config

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10


def post_notification(rt: Runtime, tenant: str, order_id: str, status: str) -> int:
    """Sign and post the notification for ``order_id``; return the webhook's HTTP status.

    Raises:
        httpx.HTTPError: the webhook could not be reached or returned 5xx (the actor retries).
    """
    config = tenant_config(get_tenant(rt.db, tenant))
    gateway = gateway_for(rt, tenant, config, "sandbox")
    assert isinstance(gateway, SandboxGateway)
    with rt.db.tenant_session(tenant) as session:
        payment = session.scalar(select(Payment).where(Payment.order_id == order_id))
    if payment is None:
        logger.warning("tenant %s: sandbox notification for unknown order", tenant)
        return 404
    headers, body = gateway.build_notification(order_id, status, payment.amount, payment.currency, clock.now())
    url = f"{rt.settings.public_base_url.rstrip('/')}/hooks/gateways/sandbox/{tenant}"
    response = httpx.post(url, headers=headers, content=body, timeout=TIMEOUT_SECONDS)
    if response.status_code >= 500:
        response.raise_for_status()
    logger.info("tenant %s: sandbox notification for %s returned HTTP %d", tenant, order_id, response.status_code)
    return response.status_code
