"""Queuing each active tenant's retention purge from the scheduler, once a day."""

from __future__ import annotations

from datetime import timedelta

from bolletta.platform import tasks
from bolletta.platform.runtime import Runtime
from bolletta.platform.schedule import take_slot
from bolletta.tenants.registry import all_tenant_slugs, get_tenant

ACTOR = "purge_expired_data"
EVERY = timedelta(days=1)


def defer_due_purges(rt: Runtime) -> list[str]:
    """Queue a purge for every active tenant whose daily slot is due; return their slugs."""
    deferred = []
    for slug in all_tenant_slugs(rt.db):
        if get_tenant(rt.db, slug).status != "active" or not take_slot(rt.db, f"retention_purge:{slug}", EVERY):
            continue
        with rt.db.tenant_session(slug) as session:
            tasks.defer(session, ACTOR, slug)
            session.commit()
        deferred.append(slug)
    return deferred
