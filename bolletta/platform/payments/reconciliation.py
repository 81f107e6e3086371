"""Nightly reconciliation: ask the gateways about attempts pending for longer than the tenant allows.

A notification can be lost (the provider gave up retrying, our endpoint was down). The tenant's
``payment_reconcile_after_minutes`` sets how old a pending attempt must be before the platform asks
the gateway server-side; the answer is applied like any notification, so running twice is harmless.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from bolletta.platform import clock
from bolletta.platform.db.models.tenant import Payment
from bolletta.platform.errors import BollettaError
from bolletta.platform.payments.notifications import OPEN_STATUSES
from bolletta.platform.payments.service import settle_payment
from bolletta.platform.runtime import Runtime
from bolletta.tenants.registry import all_tenant_slugs, get_tenant, tenant_config

logger = logging.getLogger(__name__)


def reconcile_tenant(rt: Runtime, tenant: str) -> Counter[str]:
    """Settle the tenant's stale pending attempts; return how many ended in each outcome."""
    config = tenant_config(get_tenant(rt.db, tenant))
    limit = clock.now() - timedelta(minutes=config.payment_reconcile_after_minutes)
    with rt.db.tenant_session(tenant) as session:
        order_ids = list(session.scalars(
            select(Payment.order_id).where(Payment.status.in_(OPEN_STATUSES), Payment.created_at <= limit)
            .order_by(Payment.id)
        ))
    outcomes: Counter[str] = Counter()
    for order_id in order_ids:
        try:
            outcomes[settle_payment(rt, tenant, order_id, capture=False)] += 1
        except BollettaError as exc:
            logger.warning("tenant %s: reconciling payment %s failed: %s", tenant, order_id, exc)
            outcomes["error"] += 1
    logger.info("tenant %s: reconciled %d pending payments: %s", tenant, len(order_ids), dict(outcomes))
    return outcomes


def reconcile_all(rt: Runtime) -> dict[str, Counter[str]]:
    """Reconcile every tenant, one after the other (what the nightly schedule runs)."""
    return {slug: reconcile_tenant(rt, slug) for slug in all_tenant_slugs(rt.db)}
