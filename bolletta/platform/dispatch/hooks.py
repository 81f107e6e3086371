"""Delivery report callbacks: ``/hooks/channels/<plugin>/<tenant>``, verified by the plugin.

``GET`` completes a provider's subscription handshake (WhatsApp); ``POST`` carries reports. A
callback whose signature does not verify gets 403 and changes nothing; a verified one gets 200
even when its reports change nothing (duplicates, late or out-of-order reports), so the provider
stops retrying.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from bolletta.channels.base import CallbackRequest, Channel, DeliveryReport
from bolletta.platform.dispatch.channels import plugin_for_tenant
from bolletta.platform.dispatch.reports import apply_report, find_message
from bolletta.platform.dispatch.sending import finish_dispatch_if_done
from bolletta.platform.errors import ConfigurationError
from bolletta.platform.runtime import Runtime
from bolletta.platform.web.context import active_tenant, rt
from bolletta.tenants.config import decode_config

logger = logging.getLogger(__name__)

MAX_CALLBACK_BYTES = 256 * 1024


async def _channel(slug: str, plugin: str) -> Channel:
    tenant = await active_tenant(slug)
    if tenant is None:
        raise NotFoundException()
    try:
        config = decode_config(tenant.settings)
        # A kind sent through a shared account verifies reports with that account's settings.
        kind = next((kind for kind, name in sorted(config.channel_accounts.items())
                     if name and config.channel_plugins.get(kind) == plugin), None)
        return plugin_for_tenant(rt(), slug, config, plugin, kind)
    except ConfigurationError as exc:
        raise NotFoundException() from exc


async def _callback_request(request: Request[Any, Any, Any]) -> CallbackRequest:
    return CallbackRequest(
        method=request.method, url=str(request.url), headers={k.lower(): v for k, v in request.headers.items()},
        body=await request.body(), query={key: str(value) for key, value in request.query_params.items()},
    )


@get("/hooks/channels/{plugin:str}/{slug:str}", name="hooks:channel-handshake", exclude_from_csrf=True)
async def channel_handshake(
    request: Request[Any, Any, Any], plugin: FromPath[str], slug: FromPath[str]
) -> Response[str]:
    """Complete the provider's subscription check, or respond 403 when the plugin rejects it."""
    channel = await _channel(slug, plugin)
    answer = channel.answer_handshake(await _callback_request(request))
    if answer is None:
        return Response(content="forbidden", status_code=403, media_type="text/plain")
    return Response(content=answer, status_code=200, media_type="text/plain")


@post("/hooks/channels/{plugin:str}/{slug:str}", name="hooks:channel", exclude_from_csrf=True,
      request_max_body_size=MAX_CALLBACK_BYTES)
async def channel_callback(
    request: Request[Any, Any, Any], plugin: FromPath[str], slug: FromPath[str]
) -> Response[str]:
    """Verify a delivery report callback and apply its reports."""
    channel = await _channel(slug, plugin)
    callback = await _callback_request(request)
    if not channel.verify_callback(callback):
        logger.warning("tenant %s: %s callback with an invalid signature rejected", slug, plugin)
        return Response(content="bad signature", status_code=403, media_type="text/plain")
    try:
        reports = channel.parse_callback(callback)
    except ValueError as exc:
        logger.warning("tenant %s: %s callback malformed: %s", slug, plugin, exc)
        return Response(content="malformed", status_code=400, media_type="text/plain")
    outcomes = await anyio.to_thread.run_sync(apply_reports, rt(), slug, plugin, reports)
    return Response(content=" ".join(outcomes) or "none", status_code=200, media_type="text/plain")


def apply_reports(runtime: Runtime, tenant: str, plugin: str, reports: list[DeliveryReport]) -> list[str]:
    """Apply each report to its message; return ``applied``, ``ignored`` or ``unmatched`` per report."""
    outcomes = []
    with runtime.db.tenant_session(tenant) as session:
        for report in reports:
            message = find_message(session, plugin, report)
            if message is None:
                outcomes.append("unmatched")
                continue
            outcome = apply_report(session, message, report)
            session.commit()
            outcomes.append(outcome)
            if outcome == "applied":
                job_id = message.ticket.job_id
                finish_dispatch_if_done(session, job_id)
    return outcomes
