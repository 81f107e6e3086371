"""Queuing each active tenant's payment reconciliation from the scheduler, once an hour.

The reconciliation itself (:func:`bolletta.platform.payments.reconciliation.reconcile_tenant`)
settles only the attempts pending longer than the tenant's ``payment_reconcile_after_minutes``, so
running it every hour, rather than nightly, frees a customer stuck on "pagamento in verifica" sooner
and costs nothing when no attempt is stale.
"""

from __future__ import annotations

from datetime import timedelta

from bolletta.platform import tasks
from bolletta.platform.runtime import Runtime
from bolletta.platform.schedule import take_slot
from bolletta.tenants.registry import all_tenant_slugs, get_tenant

ACTOR = "reconcile_payments"
EVERY = timedelta(hours=1)


def defer_due_reconciliations(rt: Runtime) -> list[str]:
    """Queue a reconciliation for every active tenant whose hourly slot is due; return their slugs."""
    deferred = []
    for slug in all_tenant_slugs(rt.db):
        if get_tenant(rt.db, slug).status != "active" or not take_slot(rt.db, f"payments_reconcile:{slug}", EVERY):
            continue
        with rt.db.tenant_session(slug) as session:
            tasks.defer(session, ACTOR, slug)
            session.commit()
        deferred.append(slug)
    return deferred
