"""Authentication of API requests: the bearer token, its scope, its rate limit, and audit of rejected writes.

Each token may make ``api_rate_limit_per_minute`` requests per calendar minute. The counter is a
fixed window keyed by token and minute, kept in the backend that also paces the providers' sends,
so every web process shares it when the broker is Redis.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from litestar import Request
from litestar.exceptions import HTTPException

from bolletta.platform import audit
from bolletta.platform.api.errors import ApiProblem
from bolletta.platform.api.tokens import SCOPE_CONTACTS_WRITE, SCOPE_JOBS_WRITE, ApiCaller, resolve_token
from bolletta.platform.dispatch.ratelimit import shared_backend
from bolletta.platform.i18n.message import T_
from bolletta.platform.web.context import client_ip, rt

logger = logging.getLogger(__name__)

WRITE_SCOPES = frozenset({SCOPE_JOBS_WRITE, SCOPE_CONTACTS_WRITE})
RATE_WINDOW_SECONDS = 60
RATE_KEY_TTL_MS = 2 * RATE_WINDOW_SECONDS * 1000
"""Counters outlive their minute a little, so a clock step between processes cannot reset one early."""


async def authenticate(request: Request[Any, Any, Any], scope: str) -> ApiCaller:
    """Return the caller behind the request's bearer token, counted against its rate limit.

    Raises:
        ApiProblem: 401 for a missing, invalid or revoked token; 429 when the token is over its
            rate limit; 403 when the token lacks ``scope``.
    """
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiProblem(401, T_("Missing API token. Send it as 'Authorization: Bearer <token>'."),
                         headers={"WWW-Authenticate": 'Bearer realm="api"'})
    caller = await resolve_token(rt().db, token.strip())
    if caller is None:
        raise ApiProblem(401, T_("The API token is invalid or revoked. Ask the utility's administrator for a new one."),
                         headers={"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'})
    await _count_request(caller)
    if scope not in caller.scopes:
        challenge = {"WWW-Authenticate": f'Bearer realm="api", error="insufficient_scope", scope="{scope}"'}
        raise ApiProblem(403, T_("The API token lacks the scope {scope}. Create a token with that scope.",
                                 scope=scope), headers=challenge)
    return caller


def seconds_until_next_window(now: float) -> int:
    """Whole seconds from ``now`` (Unix time) until the next rate window opens; at least 1."""
    next_window = (math.floor(now / RATE_WINDOW_SECONDS) + 1) * RATE_WINDOW_SECONDS
    return max(1, math.ceil(next_window - now))


def take_turn(token_id: int, limit: int, namespace: str) -> int | None:
    """Count one request of the token; return the seconds to wait when it is over ``limit``, else ``None``."""
    now = time.time()
    window = math.floor(now / RATE_WINDOW_SECONDS)
    key = f"{namespace}:api-rate:{token_id}:{window}"
    if shared_backend().incr(key, 1, limit, RATE_KEY_TTL_MS):
        return None
    return seconds_until_next_window(now)


async def _count_request(caller: ApiCaller) -> None:
    settings = rt().settings
    limit = settings.api_rate_limit_per_minute
    wait = await anyio.to_thread.run_sync(take_turn, caller.token_id, limit, settings.broker_namespace)
    if wait is None:
        return
    logger.warning("tenant %s: API token %d over its limit of %d requests per minute", caller.tenant,
                   caller.token_id, limit)
    raise ApiProblem(429, T_("The API token made more than {limit} requests in a minute. Try again in {seconds} "
                             "seconds.", limit=limit, seconds=wait),
                     headers={"Retry-After": str(wait)})


def _record_rejection(caller: ApiCaller, action: str, status: int, path: str, ip: str) -> None:
    with rt().db.tenant_session(caller.tenant) as session:
        audit.record(session, actor=caller.actor, action="api.write_rejected", target=path, ip=ip,
                     detail={"attempted": action, "status": status, "token": caller.token_name})
        session.commit()


@asynccontextmanager
async def audited_write(request: Request[Any, Any, Any], caller: ApiCaller, action: str) -> AsyncIterator[None]:
    """Audit a write request that the body raises out of, with its status, then let the error through.

    A write that succeeds is audited by the code that makes it (``job.upload``, the contacts import).
    """
    try:
        yield
    except (ApiProblem, HTTPException) as exc:
        status = exc.status if isinstance(exc, ApiProblem) else exc.status_code
        await anyio.to_thread.run_sync(_record_rejection, caller, action, status, request.url.path,
                                       client_ip(request))
        raise
