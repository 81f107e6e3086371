"""Each tenant's health as the operator console shows it: last job, waiting work, dispatches, errors.

The figures are read from the tenant's own schema (or file), one tenant at a time. A tenant whose
data cannot be read (a schema not migrated yet, a missing file) is listed with the error kind
rather than hiding the other tenants.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from bolletta.platform import clock
from bolletta.platform.db.models.platform import Tenant
from bolletta.platform.db.models.tenant import Job, JobTransition, Message
from bolletta.platform.errors import BollettaError
from bolletta.platform.jobs import states
from bolletta.platform.runtime import Runtime
from bolletta.tenants.config import decode_config

logger = logging.getLogger(__name__)

ERROR_WINDOW = timedelta(hours=24)
FAILED_MESSAGES = ("failed", "rejected")


@dataclass(frozen=True)
class TenantHealth:
    """One tenant's row on the console's tenants page."""

    slug: str
    name: str
    status: str
    """``active`` or ``suspended``."""
    last_job_id: int | None = None
    last_job_state: str | None = None
    last_job_at: datetime | None = None
    """When the last job last changed state."""
    awaiting_approval: int = 0
    """Jobs whose test batch went out and waits for the utility's approval."""
    awaiting_start: int = 0
    """Approved jobs waiting for "Avvia inoltro"."""
    dispatching: int = 0
    """Jobs dispatching or paused."""
    failed_jobs_24h: int = 0
    """Jobs that failed to parse in the last 24 hours."""
    failed_messages_24h: int = 0
    """Messages refused or failed in the last 24 hours."""
    channels: list[str] = field(default_factory=list)
    gateways: list[str] = field(default_factory=list)
    unreadable: str | None = None
    """The error kind when the tenant's data could not be read."""

    @property
    def errors_24h(self) -> int:
        """Failed jobs and failed messages of the last 24 hours together."""
        return self.failed_jobs_24h + self.failed_messages_24h


def tenant_health(rt: Runtime, tenant: Tenant) -> TenantHealth:
    """Read ``tenant``'s health now."""
    config = decode_config(tenant.settings)
    base = TenantHealth(slug=tenant.slug, name=tenant.name, status=tenant.status,
                        channels=sorted(config.enabled_channels), gateways=sorted(config.enabled_gateways))
    since = clock.now() - ERROR_WINDOW
    try:
        with rt.db.tenant_session(tenant.slug) as session:
            last = session.execute(select(Job.id, Job.state, Job.updated_at)
                                   .order_by(Job.updated_at.desc(), Job.id.desc()).limit(1)).first()
            by_state = dict(session.execute(
                select(Job.state, func.count()).where(Job.state.in_(
                    (states.TEST_SENT, states.APPROVED, states.DISPATCHING, states.PAUSED)))
                .group_by(Job.state)).all())
            failed_jobs = session.scalar(select(func.count(func.distinct(JobTransition.job_id))).where(
                JobTransition.to_state == states.FAILED, JobTransition.at >= since)) or 0
            failed_messages = session.scalar(select(func.count()).select_from(Message).where(
                Message.status.in_(FAILED_MESSAGES), Message.updated_at >= since)) or 0
    except (SQLAlchemyError, BollettaError) as exc:
        logger.warning("admin: health of tenant %s not readable: %s", tenant.slug, type(exc).__name__)
        return TenantHealth(**{**base.__dict__, "unreadable": type(exc).__name__})
    return TenantHealth(
        **{**base.__dict__,
           "last_job_id": last.id if last else None, "last_job_state": last.state if last else None,
           "last_job_at": last.updated_at if last else None,
           "awaiting_approval": by_state.get(states.TEST_SENT, 0), "awaiting_start": by_state.get(states.APPROVED, 0),
           "dispatching": by_state.get(states.DISPATCHING, 0) + by_state.get(states.PAUSED, 0),
           "failed_jobs_24h": failed_jobs, "failed_messages_24h": failed_messages},
    )


def all_tenants(rt: Runtime) -> list[Tenant]:
    """Every tenant, by slug, detached from its session."""
    with rt.db.platform_session() as session:
        tenants = list(session.scalars(select(Tenant).order_by(Tenant.slug)))
        session.expunge_all()
    return tenants


def every_tenant_health(rt: Runtime) -> list[TenantHealth]:
    """The health of every tenant, by slug."""
    return [tenant_health(rt, tenant) for tenant in all_tenants(rt)]
