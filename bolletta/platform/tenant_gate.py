"""Skip queued tasks of tenants that no longer exist, instead of retrying them for hours.

Every tenant task takes the tenant's slug as its first argument. Once a tenant is off-boarded, its
messages still waiting in the broker (a retry with backoff, a batch queued just before) would fail
with "tenant not found" on each attempt until their retries run out. The gate checks the slug
before the actor runs and acknowledges such a message with a warning.

The same holds for a process that starts a new runtime while a message of the previous one is
still on its way, as the test suite's embedded stacks do.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from typing import TYPE_CHECKING

from dramatiq.broker import Broker, MessageProxy
from dramatiq.errors import ActorNotFound
from dramatiq.middleware import Middleware, SkipMessage
from sqlalchemy import select

if TYPE_CHECKING:
    from bolletta.platform.runtime import Runtime

logger = logging.getLogger(__name__)

KNOWN_SECONDS = 60.0
"""How long a tenant seen to exist is trusted without asking the database again."""


class TenantGate(Middleware):
    """Acknowledges without running a tenant task whose tenant is not in the platform database."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runtime: Runtime | None = None
        self._known: dict[str, float] = {}
        self._tenant_first: dict[str, bool] = {}

    def before_process_message(self, broker: Broker, message: MessageProxy) -> None:
        if not message.args or not isinstance(message.args[0], str):
            return
        if not self._takes_tenant(broker, message.actor_name):
            return
        from bolletta.platform import runtime

        slug = message.args[0]
        rt = runtime.current()
        if self._recently_seen(rt, slug) or _exists(rt, slug):
            with self._lock:
                self._known[slug] = time.monotonic()
            return
        logger.warning("task %s skipped: tenant %s does not exist (off-boarded or from another runtime)",
                       message.actor_name, slug)
        raise SkipMessage()

    def _takes_tenant(self, broker: Broker, actor_name: str) -> bool:
        """Return whether the actor's first parameter is named ``tenant``."""
        found = self._tenant_first.get(actor_name)
        if found is None:
            try:
                parameters = list(inspect.signature(broker.get_actor(actor_name).fn).parameters)
            except ActorNotFound:  # the broker reports an unknown actor itself
                return False
            found = self._tenant_first[actor_name] = bool(parameters) and parameters[0] == "tenant"
        return found

    def _recently_seen(self, rt: Runtime, slug: str) -> bool:
        with self._lock:
            if rt is not self._runtime:
                self._runtime, self._known = rt, {}
            seen = self._known.get(slug)
        return seen is not None and time.monotonic() - seen < KNOWN_SECONDS


def _exists(rt: Runtime, slug: str) -> bool:
    from bolletta.platform.db.models.platform import Tenant

    with rt.db.platform_session() as session:
        return session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None
