"""Security headers on every response, stricter ones on customer pages."""

from __future__ import annotations

from litestar import Response

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self' {form_targets}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def add_security_headers(response: Response[object], *, customer_page: bool, hsts: bool) -> None:
    """Set CSP, content-type sniffing, framing and referrer headers on ``response``."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY.format(form_targets="").strip())
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    # Customer URLs carry bill ids, so no page ever sends them on as a referrer.
    headers["Referrer-Policy"] = "no-referrer"
    if hsts:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if customer_page:
        headers.setdefault("Cache-Control", "no-store")
