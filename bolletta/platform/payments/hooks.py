"""Provider callbacks: ``/hooks/gateways/<plugin>/<tenant>``, verified with that tenant's keys."""

from __future__ import annotations

import logging
from typing import Any

import anyio
from litestar import Request, Response, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from bolletta.gateways.errors import NotificationRejected
from bolletta.platform.errors import ConfigurationError
from bolletta.platform.payments.gateways import gateway_for
from bolletta.platform.payments.service import apply_notification
from bolletta.platform.web.context import active_tenant, rt
from bolletta.tenants.config import decode_config

logger = logging.getLogger(__name__)

MAX_NOTIFICATION_BYTES = 64 * 1024


@post("/hooks/gateways/{plugin:str}/{slug:str}", name="hooks:gateway", exclude_from_csrf=True,
      request_max_body_size=MAX_NOTIFICATION_BYTES)
async def gateway_notification(
    request: Request[Any, Any, Any], plugin: FromPath[str], slug: FromPath[str]
) -> Response[str]:
    """Verify and apply a gateway's server-to-server notification; 400 when it does not verify."""
    tenant = await active_tenant(slug)
    if tenant is None:
        raise NotFoundException()
    body = await request.body()
    try:
        gateway = gateway_for(rt(), slug, decode_config(tenant.settings), plugin)
        notification = gateway.verify_notification(dict(request.headers), body)
    except ConfigurationError as exc:
        raise NotFoundException() from exc
    except NotificationRejected as exc:
        logger.warning("tenant %s: %s notification rejected: %s", slug, plugin, exc)
        return Response(content="rejected", status_code=400, media_type="text/plain")
    outcome = await anyio.to_thread.run_sync(apply_notification, rt(), slug, plugin, notification)
    status = 409 if outcome == "mismatch" else 200
    return Response(content=outcome, status_code=status, media_type="text/plain")
