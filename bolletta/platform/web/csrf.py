"""The CSRF cookie: its configuration, and a fresh token when a staff member signs in.

Litestar's CSRF middleware keeps one token in a cookie for as long as the browser keeps the cookie.
A token picked up before sign-in (planted by another site of the same domain, or read from a shared
computer) would otherwise stay valid for the signed-in session, so signing in replaces it.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import Cookie
from litestar.middleware.csrf import generate_csrf_token

from bolletta.platform.runtime import Runtime


def csrf_config(rt: Runtime) -> CSRFConfig:
    """Build the CSRF configuration of the web app; provider callbacks and the API are excluded."""
    settings = rt.settings
    cookie_prefix = "__Host-" if settings.cookie_secure else ""
    return CSRFConfig(
        secret=rt.session_key.hex(), cookie_name=f"{cookie_prefix}csrf", cookie_secure=settings.cookie_secure,
        cookie_httponly=True, cookie_samesite="lax", exclude=["/hooks/", "/api/"],
    )


def rotate_csrf_token(request: Request[Any, Any, Any], response: Response[Any]) -> None:
    """Give ``response`` a new CSRF cookie, so forms rendered before this request stop working."""
    config = request.app.csrf_config
    if config is None:
        return
    response.set_cookie(Cookie(
        key=config.cookie_name, value=generate_csrf_token(config.secret), path=config.cookie_path,
        secure=config.cookie_secure, httponly=config.cookie_httponly, samesite=config.cookie_samesite,
        domain=config.cookie_domain,
    ))
