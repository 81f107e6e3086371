"""The console's system page: the readiness checks of ``/health/ready``, the version, and waiting work.

Waiting work is read cheaply: the task outbox rows of every tenant not finished yet, and, with the
in-memory broker of the embedded stack, the messages in its queues. Redis and RabbitMQ queue lengths
are not read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import anyio
import dramatiq
from dramatiq.brokers.stub import StubBroker
from litestar import Request, Response, Router, get
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from bolletta.platform.admin.access import admin_page, require_platform_admin
from bolletta.platform.db.models.tenant import OutboxTask
from bolletta.platform.errors import BollettaError
from bolletta.platform.health import Readiness, readiness
from bolletta.platform.runtime import Runtime
from bolletta.platform.web.context import rt
from bolletta.tenants.registry import all_tenant_slugs


@dataclass(frozen=True)
class SystemFacts:
    """Facts the system page shows."""

    readiness: Readiness
    version: str
    waiting_tasks: int
    """Task outbox rows of every tenant that no actor has finished yet."""
    unreadable_tenants: list[str]
    """Tenants whose outbox could not be read, so ``waiting_tasks`` leaves them out."""
    broker_queued: int | None
    """Messages in the in-memory broker's queues; ``None`` with Redis or RabbitMQ."""


def platform_version() -> str:
    """The installed version of the ``bolletta`` package."""
    try:
        return version("bolletta")
    except PackageNotFoundError:
        return "unknown"


def system_facts(runtime: Runtime) -> SystemFacts:
    """Run the readiness checks and count the waiting work."""
    waiting = 0
    unreadable = []
    for slug in all_tenant_slugs(runtime.db):
        try:
            with runtime.db.tenant_session(slug) as session:
                waiting += session.scalar(select(func.count()).select_from(OutboxTask)
                                          .where(OutboxTask.done_at.is_(None))) or 0
        except (SQLAlchemyError, BollettaError):
            unreadable.append(slug)
    broker = dramatiq.get_broker()
    queued = sum(queue.qsize() for queue in broker.queues.values()) if isinstance(broker, StubBroker) else None
    return SystemFacts(readiness=readiness(runtime), version=platform_version(), waiting_tasks=waiting,
                       unreadable_tenants=unreadable, broker_queued=queued)


@get("/admin/system", name="admin:system", guards=[require_platform_admin])
async def system_page(request: Request[Any, Any, Any]) -> Response[str]:
    """Show database, broker, storage and SFTP health, the version and the waiting work."""
    facts = await anyio.to_thread.run_sync(system_facts, rt())
    return admin_page(request, "admin/system.html", facts=facts)


def system_router() -> Router:
    """Build the system page route."""
    return Router(path="/", route_handlers=[system_page])
