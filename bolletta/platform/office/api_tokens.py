"""The tenant admin's API tokens: create one (its value shown once), list them, revoke one.

Tokens are stored as their SHA-256 only (:mod:`bolletta.platform.api.tokens`). Creating and revoking
are recorded in the platform audit log by that module and in the tenant's audit log here.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
from litestar import Request, Response, Router, get, post
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect

from bolletta.platform import audit
from bolletta.platform.api import tokens
from bolletta.platform.jobs.approval import Staff
from bolletta.platform.office.access import page, require_admin, staff_of
from bolletta.platform.office.routes import _tenant
from bolletta.platform.web.context import rt

logger = logging.getLogger(__name__)

NO_STORE = CacheControlHeader(no_store=True)
"""The page that shows a new token must not be kept by the browser or a proxy."""


def _record(slug: str, staff: Staff, action: str, token_id: int, detail: dict[str, Any]) -> None:
    with rt().db.tenant_session(slug) as session:
        audit.record(session, actor=staff.actor, user_id=staff.user_id, action=action, target=f"api_token:{token_id}",
                     detail=detail, ip=staff.ip)
        session.commit()


def _tokens_page(request: Request[Any, Any, Any], tenant: Any, *, status_code: int = 200,
                 issued: tokens.IssuedToken | None = None, error: str | None = None) -> Response[str]:
    rows = tokens.list_tokens(rt().db, tenant.slug)
    return page(request, "office/api_tokens.html", tenant, status_code=status_code, rows=rows,
                scopes=tokens.SCOPES, issued=issued, error=error)


@get("/office/api-tokens", name="office:api-tokens", guards=[require_admin], cache_control=NO_STORE)
async def tokens_page(request: Request[Any, Any, Any]) -> Response[str]:
    """List the utility's API tokens with scopes, last use and state."""
    tenant = await _tenant(staff_of(request))
    return await anyio.to_thread.run_sync(lambda: _tokens_page(request, tenant))


@post("/office/api-tokens", name="office:api-tokens-create", guards=[require_admin], cache_control=NO_STORE)
async def create(request: Request[Any, Any, Any]) -> Response[str]:
    """Create a token and show its value this one time."""
    staff = staff_of(request)
    tenant = await _tenant(staff)
    form = await request.form()
    name = str(form.get("name", ""))
    scopes = [str(value) for value in form.getall("scope")] if "scope" in form else []

    def run() -> Response[str]:
        try:
            issued = tokens.create_token(rt().db, tenant.slug, name, scopes, created_by=staff.actor)
        except tokens.InvalidTokenRequest as exc:
            logger.info("office: API token of tenant %s not created: %s", tenant.slug, exc)
            return _tokens_page(request, tenant, status_code=400, error="invalid")
        _record(tenant.slug, staff, "api_token.create", issued.id, {"name": issued.name, "scopes": list(issued.scopes)})
        return _tokens_page(request, tenant, issued=issued)

    return await anyio.to_thread.run_sync(run)


@post("/office/api-tokens/{token_id:int}/revoke", name="office:api-tokens-revoke", guards=[require_admin])
async def revoke(request: Request[Any, Any, Any], token_id: FromPath[int]) -> Response[Any]:
    """Revoke one of the utility's tokens at once."""
    staff = staff_of(request)
    tenant = await _tenant(staff)

    def run() -> bool:
        if token_id not in {row.id for row in tokens.list_tokens(rt().db, tenant.slug)}:
            return False  # another tenant's token gets the same 404 as a missing one
        tokens.revoke_token(rt().db, token_id, revoked_by=staff.actor)
        _record(tenant.slug, staff, "api_token.revoke", token_id, {})
        return True

    if not await anyio.to_thread.run_sync(run):
        raise NotFoundException(f"API token #{token_id} not found.")
    return Redirect("/office/api-tokens", status_code=303)


def api_tokens_router() -> Router:
    """Build the API token routes for tenant admins."""
    return Router(path="/", route_handlers=[tokens_page, create, revoke])
