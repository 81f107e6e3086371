"""The HTML an e-mail to customers may carry, the cleaning that keeps only that, and the save-time check.

A tenant writes its e-mail HTML as a sandboxed template. Autoescaping protects the fields, not the
tenant's own markup. That markup could add scripts, event attributes, forms, frames, ``javascript:``
or ``data:`` links, or remote images and styles that track who opens the e-mail. Every HTML e-mail
goes through :func:`clean_email_html` before it is sent. At save time,
:func:`~bolletta.themes.email_html_problems.email_html_problem` rejects a text that cleaning would
change, using :func:`find_removal` to name what would go.

The allowlist fits e-mail layouts. The product's own ``themes/base/messages/email.html`` keeps every
tag, attribute and character, and only some character references are written differently
(``&#39;`` as ``'``, a no-break space as ``&nbsp;``):

- text formatting, headings, lists, ``div``/``span``/``font``/``center``, and tables with their
  layout attributes (``width``, ``align``, ``cellpadding``, ``bgcolor`` and the like);
- inline ``style`` attributes whose declarations set colours, sizes, spacing, borders and fonts. A
  declaration with a function other than ``rgb()``/``hsl()`` (``url()``, ``expression()``,
  ``image-set()``), an at-rule, an escape or a comment is dropped. ``<style>`` blocks are dropped
  with their content, so CSS cannot load anything;
- images only from ``cid:`` addresses, the inline parts the e-mail carries itself (the tenant's
  header image): no remote images or tracking pixels, and no ``data:`` images, which many mail
  clients block;
- links only to ``http``, ``https``, ``mailto`` and ``tel`` addresses, each given
  ``rel="noopener noreferrer"``.

A whole document keeps its frame, rebuilt from known parts: the doctype, ``<html>`` with its
``lang`` and ``dir``, a head of ``<meta charset="utf-8">``, the viewport ``<meta>`` when present and
the title as text, and ``<body>`` with its cleaned ``style``. Comments (Outlook's conditional
comments included) are dropped.
"""

from __future__ import annotations

import html as html_module
import re
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser

import nh3
from markupsafe import escape

EMAIL_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "center", "code", "col", "colgroup", "dd", "div", "dl", "dt",
    "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "small",
    "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
})
COMMON_ATTRIBUTES = frozenset({"style", "align", "valign", "width", "height", "dir", "lang", "title", "role",
                               "bgcolor"})
"""Attributes any tag of :data:`EMAIL_TAGS` may have."""
EMAIL_ATTRIBUTES: dict[str, frozenset[str]] = {
    "a": frozenset({"href"}),
    "img": frozenset({"src", "alt", "border"}),
    "table": frozenset({"cellpadding", "cellspacing", "border"}),
    "td": frozenset({"colspan", "rowspan", "nowrap"}),
    "th": frozenset({"colspan", "rowspan", "nowrap", "scope"}),
    "col": frozenset({"span"}),
    "colgroup": frozenset({"span"}),
    "font": frozenset({"color", "face", "size"}),
    "ol": frozenset({"start", "type"}),
    "li": frozenset({"value"}),
}
"""Attributes a tag may have besides :data:`COMMON_ATTRIBUTES`."""
LINK_SCHEMES = ("http", "https", "mailto", "tel")
IMAGE_SCHEMES = ("cid",)
DROPPED_WITH_CONTENT = frozenset({
    "script", "style", "title", "iframe", "frame", "frameset", "object", "embed", "applet", "noscript", "template",
    "form", "textarea", "select", "button", "svg", "math", "audio", "video", "canvas",
})
"""Tags removed together with everything inside them. Any other unknown tag keeps its text."""

CSS_PROPERTIES = frozenset({
    "background", "background-color", "border", "border-collapse", "border-color", "border-radius",
    "border-spacing", "border-style", "border-width", "border-top", "border-right", "border-bottom", "border-left",
    "border-top-color", "border-right-color", "border-bottom-color", "border-left-color", "border-top-width",
    "border-right-width", "border-bottom-width", "border-left-width", "border-top-style", "border-right-style",
    "border-bottom-style", "border-left-style", "border-top-left-radius", "border-top-right-radius",
    "border-bottom-left-radius", "border-bottom-right-radius", "color", "direction", "display", "font",
    "font-family", "font-size", "font-style", "font-variant", "font-weight", "height", "letter-spacing",
    "line-height", "list-style-type", "margin", "margin-top", "margin-right", "margin-bottom", "margin-left",
    "max-height", "max-width", "min-height", "min-width", "overflow", "padding", "padding-top", "padding-right",
    "padding-bottom", "padding-left", "table-layout", "text-align", "text-decoration", "text-indent",
    "text-transform", "vertical-align", "white-space", "width", "word-break", "word-spacing", "word-wrap",
})
"""CSS properties an inline style may set. Outlook's ``mso-`` properties are allowed too."""
_COLOUR_FUNCTION = re.compile(r"\b(?:rgba?|hsla?)\(", re.IGNORECASE)
_CSS_VALUE = re.compile(r"^[\w\s#%.,'\"!+/)-]*$")
"""A declaration value once the colour functions are taken out: no ``(``, ``\\``, ``:``, ``@`` or ``<``."""

_DOCUMENT = re.compile(
    r"\A\s*(?P<doctype><!doctype\s+html\s*>\s*)?"
    r"(?P<html><html\b[^>]*>\s*)?"
    r"(?P<head><head\b[^>]*>(?P<head_content>.*?)</head\s*>\s*)?"
    r"(?P<body><body\b[^>]*>)?"
    r"(?P<content>.*?)"
    r"(?:</body\s*>\s*)?(?:</html\s*>\s*)?\Z",
    re.IGNORECASE | re.DOTALL,
)
_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_VIEWPORT = re.compile(r"<meta\b[^>]*\bname\s*=\s*[\"']?viewport", re.IGNORECASE)
VIEWPORT_META = '<meta name="viewport" content="width=device-width, initial-scale=1">'
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


@lru_cache(maxsize=4096)
def clean_style(style: str) -> str | None:
    """Return ``style`` without the declarations :data:`CSS_PROPERTIES` and the value rules forbid.

    The text is returned as written when every declaration is kept, and ``None`` when none is.
    Cached, because the e-mails of one dispatch repeat the same few styles.
    """
    declarations = [part.strip() for part in style.split(";") if part.strip()]
    allowed = [part for part in declarations if _declaration_allowed(part)]
    if len(allowed) == len(declarations):
        return style if allowed else None
    return "; ".join(allowed) or None


def _declaration_allowed(declaration: str) -> bool:
    name, colon, value = declaration.partition(":")
    name = name.strip().lower()
    if not colon or not (name in CSS_PROPERTIES or re.fullmatch(r"mso-[a-z-]+", name)):
        return False
    if "/*" in value or value.count('"') % 2 or value.count("'") % 2:
        return False
    return bool(_CSS_VALUE.match(_COLOUR_FUNCTION.sub("", value)))


def _scheme(url: str) -> str:
    """Return the lower-case scheme of ``url``, or ``""`` for a relative address."""
    match = re.match(r"^\s*([A-Za-z][A-Za-z0-9+.-]*):", url)
    return match.group(1).lower() if match else ""


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "style":
        return clean_style(value)
    if tag == "img" and attribute == "src":
        return value if _scheme(value) in IMAGE_SCHEMES else None
    if tag == "a" and attribute == "href":
        return value if _scheme(value) in LINK_SCHEMES else None
    return value


def _allowed_attributes() -> dict[str, set[str]]:
    return {tag: set(COMMON_ATTRIBUTES | EMAIL_ATTRIBUTES.get(tag, frozenset())) for tag in EMAIL_TAGS}


_CLEANER = nh3.Cleaner(tags=set(EMAIL_TAGS), clean_content_tags=set(DROPPED_WITH_CONTENT),
                       attributes=_allowed_attributes(), attribute_filter=_filter_attribute,
                       url_schemes=set(LINK_SCHEMES + IMAGE_SCHEMES), link_rel="noopener noreferrer",
                       url_relative="deny", strip_comments=True)
"""The cleaner of every e-mail, built once because building one costs more than cleaning an e-mail."""
_KEEPING_CLEANER = nh3.Cleaner(tags=set(EMAIL_TAGS), clean_content_tags=set(), attributes=_allowed_attributes(),
                               url_schemes=set(LINK_SCHEMES + IMAGE_SCHEMES), link_rel="noopener noreferrer",
                               url_relative="deny", strip_comments=True)
"""A cleaner that writes markup as :data:`_CLEANER` does, without the attribute filter or dropped content."""
_TEXT_CLEANER = nh3.Cleaner(tags=set(), clean_content_tags=set(DROPPED_WITH_CONTENT), strip_comments=True)
"""A cleaner that keeps only text, for the title."""


def _clean_fragment(html: str) -> str:
    return _CLEANER.clean(html)


def clean_email_html(html: str) -> str:
    """Keep only the e-mail allowlist of this module in ``html``, a fragment or a whole document."""
    parts = _DOCUMENT.match(html)
    assert parts is not None  # every group is optional, so any text matches
    if not (parts["doctype"] or parts["html"] or parts["head"] or parts["body"]):
        return _clean_fragment(html)
    root = _attributes(parts["html"] or "")
    frame = "<!DOCTYPE html>\n<html"
    language, direction = root.get("lang") or "", root.get("dir") or ""
    if _LANGUAGE_TAG.match(language):
        frame += f' lang="{language}"'
    if direction in ("ltr", "rtl"):
        frame += f' dir="{direction}"'
    frame += '>\n<head><meta charset="utf-8">'
    head = parts["head_content"] or ""
    if _VIEWPORT.search(head):
        frame += VIEWPORT_META
    title = _TITLE.search(head)
    if title is not None:
        frame += f"<title>{escape(html_module.unescape(_TEXT_CLEANER.clean(title.group(1))))}</title>"
    frame += "</head>\n<body"
    style = clean_style(_attributes(parts["body"] or "").get("style") or "")
    if style:
        frame += f' style="{escape(style)}"'
    return f"{frame}>{_clean_fragment(parts['content'])}</body>\n</html>"


def _attributes(tag: str) -> dict[str, str | None]:
    """Read the attributes of the one start tag ``tag`` (such as ``<body style="...">``)."""
    reader = _TagReader()
    reader.feed(tag)
    reader.close()
    return reader.first


class _TagReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.first: dict[str, str | None] = {}
        self.seen = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self.seen:
            self.first, self.seen = dict(attrs), True


@dataclass(frozen=True)
class Removal:
    """The first thing cleaning removes from an e-mail's HTML.

    ``kind`` is ``tag`` (an element not allowed), ``attribute`` (``name`` is the attribute),
    ``link`` or ``image`` (``value`` is the address), ``style`` (``value`` is the declaration) or
    ``markup`` (something the checks below did not name, found by comparing the cleaned HTML).
    """

    kind: str
    element: str = ""
    name: str = ""
    value: str = ""


HEAD_TAGS = frozenset({"html", "head", "body", "meta", "title"})
"""The document frame's tags, which :func:`clean_email_html` rebuilds instead of copying."""


class _RemovalFinder(HTMLParser):
    """Walk an e-mail's HTML with the allowlist of this module and keep the first thing it removes."""

    def __init__(self, skip_values_with: str) -> None:
        super().__init__(convert_charrefs=True)
        self.found: Removal | None = None
        self.skip_values_with = skip_values_with

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.found is None:
            self.found = _tag_removal(tag, attrs, self.skip_values_with)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def _tag_removal(tag: str, attrs: list[tuple[str, str | None]], skip_values_with: str) -> Removal | None:
    if tag in HEAD_TAGS:
        return _frame_removal(tag, attrs)
    if tag not in EMAIL_TAGS:
        return Removal("tag", tag)
    allowed = COMMON_ATTRIBUTES | EMAIL_ATTRIBUTES.get(tag, frozenset())
    for name, value in attrs:
        text = value or ""
        if (tag, name) == ("a", "rel"):
            continue  # replaced by rel="noopener noreferrer" on every link
        if name not in allowed:
            return Removal("attribute", tag, name, text[:80])
        if skip_values_with and skip_values_with in text:
            continue
        if name == "style" and clean_style(text) != text:
            return Removal("style", tag, name, _first_dropped(text))
        if (tag, name) == ("a", "href") and _scheme(text) not in LINK_SCHEMES:
            return Removal("link", tag, name, text[:80])
        if (tag, name) == ("img", "src") and _scheme(text) not in IMAGE_SCHEMES:
            return Removal("image", tag, name, text[:80])
    return None


def _frame_removal(tag: str, attrs: list[tuple[str, str | None]]) -> Removal | None:
    allowed = {"html": {"lang", "dir"}, "body": {"style"}, "head": set(), "title": set(),
               "meta": {"charset", "name", "content"}}[tag]
    for name, value in attrs:
        text = value or ""
        if name not in allowed or (tag == "meta" and name == "name" and text.lower() != "viewport"):
            return Removal("attribute", tag, name, text[:80])
        if name == "style" and clean_style(text) != text:
            return Removal("style", tag, name, _first_dropped(text))
    return None


def _first_dropped(style: str) -> str:
    for part in style.split(";"):
        if part.strip() and not _declaration_allowed(part.strip()):
            return part.strip()[:80]
    return style[:80]


def find_removal(html: str, *, skip_values_with: str = "") -> Removal | None:
    """Return the first thing :func:`clean_email_html` would remove from ``html``, or ``None``.

    Elements, attributes, addresses and styles are named. An attribute value containing
    ``skip_values_with`` (a template's field, whose value is not known yet) is not checked. This
    walk uses Python's HTML parser, while cleaning uses ammonia's, and the two can read broken
    markup differently. So when the walk finds nothing but cleaning still drops more than comments,
    the difference is reported as ``markup``.
    """
    finder = _RemovalFinder(skip_values_with)
    finder.feed(html)
    finder.close()
    if finder.found is not None:
        return finder.found
    parts = _DOCUMENT.match(html)
    assert parts is not None
    content = parts["content"]
    if _clean_fragment(content) != _kept_fragment(content):
        return Removal("markup")
    return None


def _kept_fragment(html: str) -> str:
    """Return ``html`` written as the cleaner writes markup, keeping the content of dropped tags."""
    return _KEEPING_CLEANER.clean(html)
