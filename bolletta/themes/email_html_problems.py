"""Save-time messages for e-mail HTML that sending would clean, naming what goes and the fix.

Both the template's source and one trial render are checked. The source check sees the markup
of every ``{% if %}`` branch, including those the sample data does not take. The render check sees
markup a template builds from strings (``{{ ('<scr' + 'ipt>') | safe }}``). Markup built only by a
branch the sample data skips is still removed when the e-mail is rendered for sending.
"""

from __future__ import annotations

import re

from bolletta.platform.i18n.message import T_, Text
from bolletta.themes.email_html import EMAIL_TAGS, Removal, find_removal

_EXPRESSION = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_STATEMENT = re.compile(r"\{%.*?%\}|\{#.*?#\}", re.DOTALL)
FIELD_MARK = "bsfield0"
"""Placeholder word for each ``{{ ... }}`` in the source check, valid in any text, tag or value."""


def email_html_problem(source: str, rendered: str | None) -> Text | None:
    """Return the message for the first thing cleaning removes from ``source`` or its trial render ``rendered``.

    ``None`` means the e-mail goes out as the tenant wrote it.
    """
    removal = _source_removal(source)
    if removal is None and rendered is not None:
        removal = find_removal(rendered)
    return None if removal is None else removal_problem(removal)


def _source_removal(source: str) -> Removal | None:
    """Check the template's own markup, with each field as a plain word and each statement taken out.

    A value that contains a field (``href="{{ link }}"``) is left to the render check, because only
    the field's value decides it.
    """
    markup = _STATEMENT.sub("", _EXPRESSION.sub(FIELD_MARK, source))
    removal = find_removal(markup, skip_values_with=FIELD_MARK)
    if removal is not None and removal.kind == "markup":
        return None  # the render check compares real markup, where fields have their values
    return removal


def removal_problem(removal: Removal) -> Text:
    """Return the message naming ``removal`` and how to write the e-mail without it."""
    element = removal.element.replace(FIELD_MARK, "{{ }}")[:40]
    if removal.kind == "tag":
        return T_("The e-mail HTML holds <{element}>, which e-mails may not carry, so it would be removed before "
                  "sending: remove it and use only {tags}.", element=element, tags=", ".join(sorted(EMAIL_TAGS)))
    if removal.kind == "attribute":
        return T_("The attribute {value} of <{element}> would be removed before sending (event attributes such as "
                  "onclick or onerror, and attributes that load addresses, are not allowed): remove it.",
                  value=removal.name, element=element)
    if removal.kind == "link":
        return T_("The link {value} would be removed before sending: links must start with https://, http://, "
                  "mailto: or tel: (never javascript:, data: or a relative address).", value=removal.value)
    if removal.kind == "image":
        return T_("The image {value} would be removed before sending: e-mails show only images they carry, such as "
                  "the header image uploaded with the texts ({{{{ header_image }}}}), never images from an address.",
                  value=removal.value)
    if removal.kind == "style":
        return T_("The style {value} of <{element}> would be removed before sending: styles may set colours, "
                  "fonts, sizes, spacing and borders, but not load addresses (url(), image-set(), @import) or run "
                  "expressions; use a style attribute without them.", value=removal.value, element=element)
    return T_("The e-mail HTML holds markup that would be removed before sending (often a tag left open or "
              "written inside another): check the tags and use only {tags}.", tags=", ".join(sorted(EMAIL_TAGS)))
