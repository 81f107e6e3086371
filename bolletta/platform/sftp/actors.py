"""Dramatiq actor polling a tenant's remote SFTP server."""

from __future__ import annotations

import logging

import dramatiq

from bolletta.platform import runtime
from bolletta.platform.errors import NotFound
from bolletta.platform.sftp.poller import PollError, poll_tenant

logger = logging.getLogger(__name__)


@dramatiq.actor(max_retries=0)
def poll_remote_sftp(tenant: str) -> None:
    """Download the tenant's complete remote flows and open their jobs.

    A failed poll is not retried: the next slot polls again, and a file left on the server is taken
    then, so retrying here would only poll twice.
    """
    rt = runtime.current()
    try:
        result = poll_tenant(rt, tenant)
    except PollError as exc:
        logger.warning("sftp poll of tenant %s failed: %s", tenant, exc)
        return
    except NotFound:
        logger.warning("sftp poll skipped: tenant %s not found", tenant)
        return
    if result.opened or result.skipped:
        logger.info("sftp poll of tenant %s: %d jobs opened, %d files skipped", tenant, len(result.opened),
                    len(result.skipped))
