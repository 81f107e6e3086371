"""Messages for tenant templates that fail, in the staff member's language, naming the problem and the fix.

Jinja explains a failure in English (``'customer_name' is undefined``, ``access to attribute
'__class__' of 'str' object is unsafe``). The settings pages show :func:`template_problem` next to the
field instead: a translatable message naming the problem and the fix, with the fields the template
may use when it asked for another. A template that reaches for what the sandbox forbids is an
attempt to escape it, which :func:`bolletta.themes.sandbox.log_escape_attempt` records.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from jinja2 import TemplateNotFound, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SecurityError

from bolletta.platform.i18n.message import T_, Text
from bolletta.themes.sandbox import MAX_SOURCE_CHARS, BlockLimitExceeded

_UNDEFINED_NAME = re.compile(r"^'([^']{1,80})' is undefined")
_MISSING_ATTRIBUTE = re.compile(r"has no attribute '([^']{1,80})'")
_UNSAFE_ATTRIBUTE = re.compile(r"attribute '([^']{1,80})'")


def template_problem(exc: BaseException, fields: Iterable[str]) -> Text:
    """Return the message for a template that failed with ``exc``; ``fields`` are those it may use."""
    usable = ", ".join(sorted(fields))
    message = str(exc)
    if isinstance(exc, BlockLimitExceeded):
        if exc.kind == "time":
            return T_("The template takes too long to render: remove loops inside loops or make the loops shorter.")
        if exc.kind == "source":
            return T_("The template is longer than {limit} characters: shorten it, for example by removing "
                      "repeated styles.", limit=MAX_SOURCE_CHARS)
        if exc.kind == "depth":
            return T_("The template calls a macro inside itself without end: give the macro a condition that "
                      "stops it, or remove the call.")
        return T_("The template builds a text past its size limit: use smaller widths, counts and repetitions.")
    if isinstance(exc, SecurityError):
        found = _UNSAFE_ATTRIBUTE.search(message)
        if found:
            return T_("The template reaches for {value}, which templates may not use: use only the fields "
                      "{fields} and Jinja filters.", value=found.group(1), fields=usable)
        return T_("The template calls something templates may not use: use only the fields {fields} and "
                  "Jinja filters.", fields=usable)
    if isinstance(exc, UndefinedError):
        found = _UNDEFINED_NAME.search(message)
        if found:
            return T_("{value} is not a field this template may use; the fields are {fields}.",
                      value=found.group(1), fields=usable)
        found = _MISSING_ATTRIBUTE.search(message)
        return T_("{value} is not part of any field: write the fields as they are; they are {fields}.",
                  value=found.group(1) if found else message[:80], fields=usable)
    if isinstance(exc, TemplateNotFound) or "no loader" in message:
        return T_("A template cannot include, import or extend another template: write the whole text here.")
    if isinstance(exc, TemplateSyntaxError):
        return T_("Line {line} of the template is not valid Jinja ({error}): check that each {{{{ has its }}}} "
                  "and each {{% if %}} or {{% for %}} its {{% endif %}} or {{% endfor %}}.",
                  line=exc.lineno, error=message[:120])
    return T_("The template does not render ({error}). It may use only these fields: {fields}.",
              error=message[:200], fields=usable)
