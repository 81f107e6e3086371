"""Dramatiq actors of online payments: the sandbox's notification, settling and reconciling attempts."""

from __future__ import annotations

import logging

import dramatiq

from bolletta.platform import runtime
from bolletta.platform.errors import NotFound
from bolletta.platform.payments import reconciliation, sandbox_notify, service

logger = logging.getLogger(__name__)


@dramatiq.actor(max_retries=5, min_backoff=1_000)
def post_sandbox_notification(tenant: str, order_id: str, status: str) -> None:
    """Post the signed notification of a sandbox payment to our own webhook."""
    sandbox_notify.post_notification(runtime.current(), tenant, order_id, status)


@dramatiq.actor(max_retries=3, min_backoff=2_000)
def settle_payment_attempt(tenant: str, order_id: str, capture: bool) -> None:
    """Confirm an attempt server-side after the customer came back; safe to run twice."""
    service.settle_payment(runtime.current(), tenant, order_id, capture=capture)


@dramatiq.actor(max_retries=0, time_limit=30 * 60 * 1000)
def reconcile_payments(tenant: str) -> None:
    """Query the gateway about the tenant's attempts pending longer than its reconciliation age.

    A tenant removed since the scheduler queued the run is skipped: the next round no longer has it.
    """
    try:
        reconciliation.reconcile_tenant(runtime.current(), tenant)
    except NotFound:
        logger.warning("payment reconciliation skipped: tenant %s not found", tenant)
