"""Provider callbacks: ``/hooks/gateways/<plugin>/<tenant>``, verified with that tenant's keys.

Answers: 200 for an applied, duplicate or ignored notification (so the provider stops retrying),
400 for one that failed verification and 409 for one whose amount, currency or merchant does not
match the attempt; both of the latter are recorded as security events.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
from litestar import Request, Response, route
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from bolletta.gateways.base import IncomingNotification
from bolletta.gateways.errors import GatewayConfigError, GatewayUnavailable, NotificationRejected
from bolletta.platform.errors import ConfigurationError
from bolletta.platform.payments.attempts import SessionAttempts
from bolletta.platform.payments.gateways import gateway_for
from bolletta.platform.payments.notifications import apply_notification, record_rejected
from bolletta.platform.runtime import Runtime
from bolletta.platform.web.context import active_tenant, rt
from bolletta.tenants.config import decode_config

logger = logging.getLogger(__name__)

MAX_NOTIFICATION_BYTES = 64 * 1024


def _verify_and_apply(runtime: Runtime, slug: str, settings: dict[str, object], plugin: str,
                      incoming: IncomingNotification) -> tuple[int, str]:
    gateway = gateway_for(runtime, slug, decode_config(settings), plugin)
    try:
        with runtime.db.tenant_session(slug) as session:
            notification = gateway.verify_notification(incoming, SessionAttempts(session, plugin))
    except NotificationRejected as exc:
        record_rejected(runtime, slug, plugin, str(exc))
        return 400, "rejected"
    outcome = apply_notification(runtime, slug, gateway, notification)
    return (409 if outcome == "mismatch" else 200), outcome


@route("/hooks/gateways/{plugin:str}/{slug:str}", http_method=["GET", "POST"], name="hooks:gateway",
       exclude_from_csrf=True, request_max_body_size=MAX_NOTIFICATION_BYTES)
async def gateway_notification(
    request: Request[Any, Any, Any], plugin: FromPath[str], slug: FromPath[str]
) -> Response[str]:
    """Verify and apply a gateway's server-to-server notification (POST, or GET for bare callbacks)."""
    tenant = await active_tenant(slug)
    if tenant is None:
        raise NotFoundException()
    incoming = IncomingNotification(
        method=request.method, headers=dict(request.headers), body=await request.body(),
        query={key: str(value) for key, value in request.query_params.items()},
    )
    try:
        status, outcome = await anyio.to_thread.run_sync(
            _verify_and_apply, rt(), slug, tenant.settings, plugin, incoming
        )
    except (ConfigurationError, GatewayConfigError) as exc:
        logger.warning("tenant %s: notification for gateway %s not handled: %s", slug, plugin, exc)
        raise NotFoundException() from exc
    except GatewayUnavailable as exc:
        # The provider retries a non-2xx answer, which is what we need when we could not confirm.
        logger.warning("tenant %s: %s notification could not be confirmed: %s", slug, plugin, exc)
        return Response(content="retry later", status_code=503, media_type="text/plain")
    return Response(content=outcome, status_code=status, media_type="text/plain")
