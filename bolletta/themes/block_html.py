"""The HTML a content block may put on the customer page, and the cleaning that keeps only that.

A block is the tenant's own HTML with fields filled in, so autoescaping protects only the fields:
the block's markup could still redirect the page (``<meta http-equiv="refresh">``), run scripts,
post forms or link to ``javascript:``. The rendered block goes through ammonia (``nh3``), which keeps
text formatting, lists, small tables and links to web, mail and phone addresses, and drops the rest.
Scripts, styles and forms are dropped with their content, other unknown tags keep their text.
"""

from __future__ import annotations

import nh3

BLOCK_TAGS = frozenset({
    "p", "br", "strong", "em", "b", "i", "u", "small", "span", "ul", "ol", "li", "a", "h3", "h4",
    "table", "thead", "tbody", "tr", "th", "td",
})
BLOCK_ATTRIBUTES = {"a": {"href", "title"}, "th": {"colspan", "rowspan"}, "td": {"colspan", "rowspan"}}
LINK_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
DROPPED_WITH_CONTENT = frozenset({"script", "style", "form", "iframe", "object", "template", "noscript",
                                  "textarea", "select", "title"})


def clean_block_html(html: str) -> str:
    """Keep only :data:`BLOCK_TAGS` and their allowed attributes; links get ``rel="noopener noreferrer"``."""
    return nh3.clean(html, tags=set(BLOCK_TAGS), clean_content_tags=set(DROPPED_WITH_CONTENT),
                     attributes={tag: set(names) for tag, names in BLOCK_ATTRIBUTES.items()},
                     url_schemes=set(LINK_SCHEMES), link_rel="noopener noreferrer", url_relative=None)


def block_html_changed(html: str) -> bool:
    """True when cleaning removes something from ``html``, beyond ammonia writing the same markup differently.

    Cleaning is compared with the same HTML cleaned while keeping every tag listed in this module, so
    quoting and entity changes do not count; only removed tags, attributes and links do.
    """
    return clean_block_html(html) != _normalised(html)


def _normalised(html: str) -> str:
    tags = set(BLOCK_TAGS | DROPPED_WITH_CONTENT | {"meta", "img", "div", "input", "button", "link", "base", "svg"})
    return nh3.clean(html, tags=tags, clean_content_tags=set(), attributes={"*": _ANY_ATTRIBUTES},
                     url_schemes=set(LINK_SCHEMES | _OTHER_SCHEMES), link_rel="noopener noreferrer", url_relative=None)


_OTHER_SCHEMES = frozenset({"javascript", "data", "vbscript", "file", "ftp", "blob"})
_ANY_ATTRIBUTES = {"href", "title", "colspan", "rowspan", "http-equiv", "content", "src", "onerror", "onload",
                   "onclick", "action", "method", "style", "class", "id", "name", "value", "type"}
