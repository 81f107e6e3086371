"""The rendered-page cache: LRU bound, time to live and the per-request CSRF field."""

from __future__ import annotations

from markupsafe import Markup

from bolletta.platform.portal.cache import PageCache, fill_csrf, placeholder_input, settings_digest


def test_lru_keeps_the_newest_pages() -> None:
    pages = PageCache(max_pages=2)
    pages.put("a", "A")
    pages.put("b", "B")
    pages.get("a")
    pages.put("c", "C")

    assert pages.get("a") == "A"
    assert pages.get("b") is None
    assert pages.get("c") == "C"


def test_expired_pages_are_dropped() -> None:
    pages = PageCache(ttl_seconds=-1)
    pages.put("a", "A")

    assert pages.get("a") is None


def test_csrf_field_is_filled_per_request() -> None:
    html = f"<form>{placeholder_input()}</form>"

    assert fill_csrf(html, Markup('<input name="_csrf_token" value="t1">')) == (
        '<form><input name="_csrf_token" value="t1"></form>')


def test_settings_digest_changes_with_settings() -> None:
    assert settings_digest({"a": 1}) == settings_digest({"a": 1})
    assert settings_digest({"a": 1}) != settings_digest({"a": 2})
