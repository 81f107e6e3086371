"""Security headers on customer pages and the flags of the session cookie."""

from __future__ import annotations

import httpx
import pytest

from bolletta.platform.demo.tenant import DEMO_SLUG
from bolletta.platform.tokens import random_base62
from tests.integration.portal.helpers import Portal

SESSION_COOKIE = "bolletta"


@pytest.fixture(scope="module")
def customer_responses(portal: Portal) -> dict[str, httpx.Response]:
    """One response of each kind of customer page, from one browser."""
    token, bill = portal.claim_token()
    with portal.client() as client:
        redirect = client.get(f"/c/{DEMO_SLUG}/t/{token}")
        summary = client.get(redirect.headers["location"])
        invalid = client.get(f"/c/{DEMO_SLUG}/t/{random_base62()}")
        probe = client.head(f"/c/{DEMO_SLUG}/t/{token}")
        pdf = client.get(f"/c/{DEMO_SLUG}/b/{bill.public_id}/pdf")
    return {"redirect": redirect, "summary": summary, "invalid": invalid, "probe": probe, "pdf": pdf}


@pytest.mark.parametrize("page", ["redirect", "summary", "invalid", "probe", "pdf"])
def test_customer_page_headers(customer_responses: dict[str, httpx.Response], page: str) -> None:
    headers = customer_responses[page].headers
    policy = headers.get("content-security-policy", "")
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert headers.get("x-content-type-options") == "nosniff"
    assert headers.get("referrer-policy") == "no-referrer"
    assert "no-store" in headers.get("cache-control", "")


def test_session_cookie_flags(customer_responses: dict[str, httpx.Response]) -> None:
    set_cookies = customer_responses["redirect"].headers.get_list("set-cookie")
    session = [value for value in set_cookies if value.startswith(f"{SESSION_COOKIE}=")]
    assert len(session) == 1
    flags = [part.strip().lower() for part in session[0].split(";")[1:]]
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert "path=/" in flags
    # The demo serves plain HTTP, so Secure (and the __Host- prefix) is off here by setting.
    assert "secure" not in flags
