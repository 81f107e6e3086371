"""One-click unsubscribe (RFC 2369 ``List-Unsubscribe``, RFC 8058 ``List-Unsubscribe-Post``).

Every customer e-mail carries ``List-Unsubscribe: <https://<platform>/hooks/unsubscribe/<tenant>/<token>>``
and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``. The token is the address encrypted
(Fernet, under a key derived for the tenant), so the URL reveals nothing and cannot be forged for
another address. The mailbox provider POSTs ``List-Unsubscribe=One-Click`` to it and the address
joins the tenant's suppression list. A GET changes nothing (mail scanners open every link): it shows
a page whose button sends the same POST, for a person who opens the URL in a browser.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
from cryptography.fernet import Fernet, InvalidToken
from litestar import Request, Response, get, post
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from bolletta.platform import keys
from bolletta.platform.db.models.platform import Tenant
from bolletta.platform.dispatch import suppression
from bolletta.platform.portal import language as languages
from bolletta.platform.runtime import Runtime
from bolletta.platform.web.context import active_tenant, rt
from bolletta.platform.web.templates import render
from bolletta.tenants.config import decode_config

logger = logging.getLogger(__name__)

PURPOSE = "list-unsubscribe"
NO_STORE = CacheControlHeader(no_store=True)


def _fernet(runtime: Runtime, tenant: str) -> Fernet:
    import base64

    return Fernet(base64.urlsafe_b64encode(keys.derive_key(runtime.secret, f"{PURPOSE}:{tenant}")))


def unsubscribe_url(runtime: Runtime, tenant: str, address: str) -> str:
    """Return the one-click unsubscribe URL of ``address`` for ``tenant``."""
    token = _fernet(runtime, tenant).encrypt(address.encode()).decode()
    return f"{runtime.settings.public_base_url.rstrip('/')}/hooks/unsubscribe/{tenant}/{token}"


def unsubscribe_headers(runtime: Runtime, tenant: str, address: str) -> dict[str, str]:
    """Return the two headers of a customer e-mail to ``address``."""
    return {"List-Unsubscribe": f"<{unsubscribe_url(runtime, tenant, address)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def address_of(runtime: Runtime, tenant: str, token: str) -> str | None:
    """Return the address a token stands for, or ``None`` when it was not made for this tenant."""
    try:
        return _fernet(runtime, tenant).decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return None


def unsubscribe(runtime: Runtime, tenant: str, address: str) -> bool:
    """Add ``address`` to the tenant's suppression list; return False when it was there already."""
    with runtime.db.tenant_session(tenant) as session:
        added = suppression.suppress(session, "email", address, reason="unsubscribe", source="list-unsubscribe")
        session.commit()
    return added


async def _tenant_and_address(slug: str, token: str) -> tuple[Tenant, str]:
    """Return the active tenant and the address of ``token``; raise 404 when either is unknown."""
    tenant = await active_tenant(slug)
    if tenant is None:
        raise NotFoundException()
    address = address_of(rt(), slug, token)
    if address is None:
        raise NotFoundException()
    return tenant, address


def _page(request: Request[Any, Any, Any], tenant: Tenant, *, done: bool) -> Response[str]:
    config = decode_config(tenant.settings)
    return render(request, "portal/unsubscribe.html", language=languages.choose(request, config.portal, None),
                  tenant=tenant, config=config, done=done, action=request.url.path)


@get("/hooks/unsubscribe/{slug:str}/{token:str}", name="hooks:unsubscribe-page", cache_control=NO_STORE)
async def unsubscribe_page(request: Request[Any, Any, Any], slug: FromPath[str], token: FromPath[str]) -> Response[str]:
    """Render the page whose button confirms the unsubscribe; 404 for a token that is not this tenant's."""
    tenant, _address = await _tenant_and_address(slug, token)
    return _page(request, tenant, done=False)


@post("/hooks/unsubscribe/{slug:str}/{token:str}", name="hooks:unsubscribe", exclude_from_csrf=True,
      request_max_body_size=4096, cache_control=NO_STORE)
async def one_click_unsubscribe(request: Request[Any, Any, Any], slug: FromPath[str],
                                token: FromPath[str]) -> Response[str]:
    """Honour a one-click unsubscribe POST; 404 for a token that is not this tenant's.

    A browser, which sends ``Accept: text/html`` with the confirm button, gets a page. A mailbox
    provider gets plain text.
    """
    tenant, address = await _tenant_and_address(slug, token)
    await anyio.to_thread.run_sync(unsubscribe, rt(), slug, address)
    logger.info("tenant %s: an address unsubscribed by one-click", slug)
    if "text/html" in request.headers.get("accept", ""):
        return _page(request, tenant, done=True)
    return Response(content="unsubscribed", status_code=200, media_type="text/plain")
