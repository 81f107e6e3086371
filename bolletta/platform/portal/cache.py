"""Rendered bill pages kept in memory, so a page is rendered once per state instead of once per request.

A bill changes rarely: the key holds everything a page shows that can change (the tenant's
settings, the bill's payment state, the page language, the day, for "overdue"), so a changed
bill simply misses the cache. The CSRF token differs per browser, so pages are stored with a
placeholder that :func:`fill_csrf` replaces on the way out. Each web worker keeps its own cache.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from bolletta.platform.db.models.platform import Tenant
from bolletta.platform.payments.display import form_action_origins
from bolletta.platform.web.security import CONTENT_SECURITY_POLICY
from bolletta.tenants.config import TenantConfig, decode_config
from bolletta.tenants.registry import CONFIG_SAVED_LISTENERS

MAX_PAGES = 5_000
"""Pages kept per process; at about 20 KB each, some 100 MB at most."""
TTL_SECONDS = 300.0
CSRF_PLACEHOLDER = "\x00csrf\x00"


class PageCache:
    """A thread-safe LRU of rendered pages with a time to live."""

    def __init__(self, max_pages: int = MAX_PAGES, ttl_seconds: float = TTL_SECONDS) -> None:
        self.max_pages = max_pages
        self.ttl_seconds = ttl_seconds
        self._pages: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self._lock:
            found = self._pages.get(key)
            if found is None:
                return None
            stored_at, html = found
            if time.monotonic() - stored_at > self.ttl_seconds:
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
            return html

    def get_with_age(self, key: Hashable) -> tuple[Any, float] | None:
        """Return the value of ``key`` and its age in seconds, like :meth:`get`."""
        with self._lock:
            found = self._pages.get(key)
            if found is None:
                return None
            age = time.monotonic() - found[0]
            if age > self.ttl_seconds:
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
            return found[1], age

    def put(self, key: Hashable, html: Any) -> None:
        with self._lock:
            self._pages[key] = (time.monotonic(), html)
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_pages:
                self._pages.popitem(last=False)

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._pages.pop(key, None)

    def forget_where(self, matches: Callable[[Hashable], bool]) -> None:
        """Drop every entry whose key ``matches``. It scans all entries, so it suits rare changes."""
        with self._lock:
            for key in [key for key in self._pages if matches(key)]:
                del self._pages[key]

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


@dataclass(frozen=True)
class TenantView:
    """An active tenant with what every page of it derives from its settings."""

    tenant: Tenant
    config: TenantConfig
    digest: str
    """:func:`settings_digest` of the stored settings, part of every page's cache key."""
    content_security_policy: str
    """The pages' policy, allowing the forms to post to the enabled gateways' pages."""


def tenant_view(tenant: Tenant) -> TenantView:
    """Decode ``tenant``'s settings once for the pages served from :data:`TENANTS`."""
    config = decode_config(tenant.settings)
    policy = CONTENT_SECURITY_POLICY.format(form_targets=" ".join(form_action_origins(config))).strip()
    return TenantView(tenant=tenant, config=config, digest=settings_digest(tenant.settings),
                      content_security_policy=policy)


PAGES = PageCache()
TENANTS = PageCache(max_pages=1_000, ttl_seconds=1.0)
"""Active tenants by slug as :class:`TenantView`, for a second: a page view then skips the platform
lookup. Saving a tenant's settings in this process drops its entry at once (``CONFIG_SAVED_LISTENERS``)."""


def _forget_tenant(slug: str) -> None:
    TENANTS.forget(slug)


CONFIG_SAVED_LISTENERS.append(_forget_tenant)


def settings_digest(settings: dict[str, Any] | None) -> str:
    """A short digest of a tenant's stored settings, so a saved change misses the cache."""
    return hashlib.sha256(json.dumps(settings or {}, sort_keys=True, default=str).encode()).hexdigest()[:16]


def placeholder_input() -> Markup:
    """The CSRF field as cached pages hold it."""
    return Markup(CSRF_PLACEHOLDER)  # noqa: S704 - a constant with no markup in it


def fill_csrf(html: str, csrf_input: Markup) -> str:
    """The cached page with this request's CSRF field."""
    return html.replace(CSRF_PLACEHOLDER, str(csrf_input))
