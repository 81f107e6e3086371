"""Which language a customer page speaks, and remembering the customer's choice for the session.

Precedence (spec section 5): the language chosen on a page of this session, then the customer's
language from the flow or the contacts when the tenant enabled it, then the browser's
``Accept-Language``, then Italian. Only languages the tenant offers are ever picked.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from litestar import Request

from bolletta.tenants.config import PortalSettings

PAGE_LANGUAGES = ("it", "en", "de", "fr", "es", "ro", "ar")
"""Every language the customer pages have a catalog for."""
RIGHT_TO_LEFT = frozenset({"ar"})
LANGUAGE_NAMES = {
    "it": "Italiano", "en": "English", "de": "Deutsch", "fr": "Français", "es": "Español",
    "ro": "Română", "ar": "العربية",
}
"""Each language's own name, as the switcher shows it whatever the page language."""
DEFAULT_LANGUAGE = "it"
SESSION_KEY = "lang"
MAX_KEPT_HEADER = 200
"""Longest ``Accept-Language`` header whose parsed languages are kept."""


def offered(settings: PortalSettings) -> list[str]:
    """The tenant's page languages we have catalogs for, Italian first and always present."""
    chosen = [code for code in settings.languages if code in PAGE_LANGUAGES and code != DEFAULT_LANGUAGE]
    return [DEFAULT_LANGUAGE, *dict.fromkeys(chosen)]


def primary_language(tag: str | None) -> str:
    """The primary language code of a tag (``de`` for ``de-AT`` or ``de_AT``); empty for ``None``."""
    return (tag or "").strip().lower().replace("_", "-").split("-")[0]


def browser_languages(header: str) -> tuple[str, ...]:
    """Primary language codes of an ``Accept-Language`` header, by decreasing quality.

    The results for the last short headers seen are kept, because a browser sends the same header
    with every page. A longer header, which no browser sends, is parsed each time and not kept.
    """
    if len(header) > MAX_KEPT_HEADER:
        return _browser_languages(header)
    return _kept_browser_languages(header)


def _browser_languages(header: str) -> tuple[str, ...]:
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag.strip() and quality > 0:
            ranked.append((-quality, index, primary_language(tag)))
    return tuple(code for _q, _i, code in sorted(ranked))


_kept_browser_languages = lru_cache(maxsize=256)(_browser_languages)


def choose(request: Request[Any, Any, Any], settings: PortalSettings, customer_language: str | None) -> str:
    """The page language for this request, by the precedence of the module docstring."""
    languages = offered(settings)
    remembered = (request.session or {}).get(SESSION_KEY)
    if remembered in languages:
        return str(remembered)
    customer = primary_language(customer_language)
    if settings.use_customer_language and customer in languages:
        return customer
    for code in browser_languages(request.headers.get("accept-language", "")):
        if code in languages:
            return code
    return DEFAULT_LANGUAGE


def remember(request: Request[Any, Any, Any], language: str) -> None:
    """Keep ``language`` for the rest of the session."""
    if (request.session or {}).get(SESSION_KEY) == language:
        return
    session = dict(request.session or {})
    session[SESSION_KEY] = language
    request.set_session(session)


def direction(language: str) -> str:
    """``rtl`` for right-to-left languages, else ``ltr``."""
    return "rtl" if language in RIGHT_TO_LEFT else "ltr"
