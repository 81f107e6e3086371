"""Dramatiq actor of the retention purge."""

from __future__ import annotations

import logging

import dramatiq

from bolletta.platform import runtime
from bolletta.platform.errors import NotFound
from bolletta.platform.privacy import retention

logger = logging.getLogger(__name__)


@dramatiq.actor(max_retries=0, time_limit=60 * 60 * 1000)
def purge_expired_data(tenant: str) -> None:
    """Delete the tenant's data past its retention; the next day's run finishes an interrupted one.

    A tenant removed since the scheduler queued the run is skipped.
    """
    try:
        retention.purge_tenant(runtime.current(), tenant)
    except NotFound:
        logger.warning("retention purge skipped: tenant %s not found", tenant)
