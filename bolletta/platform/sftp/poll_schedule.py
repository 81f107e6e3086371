"""Polling each tenant's remote SFTP server on the tenant's own interval.

The scheduler calls :func:`defer_due_polls` on every tick. A tenant is polled when it is active, has
``sftp_poll`` settings with ``interval_minutes`` above 0, and its schedule slot is due. The poll
itself runs in a worker through the task outbox, so a slow or unreachable server never holds up
the scheduler.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bolletta.platform import tasks
from bolletta.platform.db.models.platform import Tenant
from bolletta.platform.runtime import Runtime
from bolletta.platform.schedule import take_slot
from bolletta.tenants.registry import all_tenant_slugs, get_tenant, tenant_config

logger = logging.getLogger(__name__)

ACTOR = "poll_remote_sftp"


def slot_key(tenant: str) -> str:
    """Return the key of the schedule slot for ``tenant``'s polls."""
    return f"sftp_poll:{tenant}"


def defer_due_polls(rt: Runtime) -> list[str]:
    """Queue a poll for every tenant whose interval has passed; return their slugs."""
    deferred = []
    for slug in all_tenant_slugs(rt.db):
        tenant = get_tenant(rt.db, slug)
        interval = _interval(tenant)
        if interval is None or not take_slot(rt.db, slot_key(slug), interval):
            continue
        with rt.db.tenant_session(slug) as session:
            tasks.defer(session, ACTOR, slug)
            session.commit()
        deferred.append(slug)
    if deferred:
        logger.info("sftp poll: queued for %s", ", ".join(deferred))
    return deferred


def _interval(tenant: Tenant) -> timedelta | None:
    if tenant.status != "active":
        return None
    settings = tenant_config(tenant).sftp_poll
    if settings is None or settings.interval_minutes == 0:
        return None
    return timedelta(minutes=settings.interval_minutes)
