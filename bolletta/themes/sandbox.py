"""Tenant-written Jinja2 templates (content blocks, message texts), rendered in the sandbox.

A template sees a few strings and numbers (never the ORM objects, the request or the settings), may
not reach attributes or mutate values as the immutable sandbox forbids, and is stopped when it runs
past :data:`MAX_RENDER_SECONDS` or writes more than its output limit. Content blocks are
autoescaped, so a block cannot add scripts to the page; a block that fails renders nothing and is
logged for the operator.
"""

from __future__ import annotations

import logging
import math
import re
import time
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, Undefined
from jinja2.filters import do_format
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

logger = logging.getLogger(__name__)

MAX_BLOCK_SOURCE_CHARS = 5_000
MAX_BLOCK_OUTPUT_CHARS = 20_000
MAX_RENDER_SECONDS = 0.05

_deadline: ContextVar[float] = ContextVar("sandbox_deadline", default=math.inf)
"""Monotonic time after which the template being rendered in this thread or task is stopped."""


class BlockLimitExceeded(TemplateError):
    """Raised when a tenant template runs too long or writes too much."""


MAX_POWER_BITS = 4096
"""Largest ``**`` result, in bits, a template may compute, so one expression cannot build a huge number."""
_WIDE_FORMAT = re.compile(r"%[^a-zA-Z%]*(\*|\d{5,})|\{[^{}]*:[^{}]*(\{|\d{5,})")
"""A printf or ``str.format`` spec with a width of 5 digits or more, or a width taken from an argument."""


def _check_format(spec: str) -> None:
    if _WIDE_FORMAT.search(spec):
        raise BlockLimitExceeded("template formats a value wider than its size limit")


def _checked_format(value: Any, *args: Any, **kwargs: Any) -> str:
    _check_format(str(value))
    return do_format(value, *args, **kwargs)


class _LimitedEnvironment(ImmutableSandboxedEnvironment):
    """The immutable sandbox, checking the render deadline at every call the template makes.

    The output limit of :func:`render_text` applies only to what was already produced, so a single
    expression that builds a huge value (``'x' * 10**9``, ``'%999999999d' % 1``) is stopped before
    it runs instead.
    """

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.filters["format"] = _checked_format

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if time.monotonic() > _deadline.get():
            raise BlockLimitExceeded("template ran past its time limit")
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            sequence, times = (left, right) if isinstance(right, int) else (right, left)
            if isinstance(sequence, (str, list, tuple)) and isinstance(times, int) \
                    and len(sequence) * times > MAX_BLOCK_OUTPUT_CHARS:
                raise BlockLimitExceeded("template repeats a value past its size limit")
        elif operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0 \
                and max(left.bit_length(), 1) * right > MAX_POWER_BITS:
            raise BlockLimitExceeded("template computes a number past its size limit")
        elif operator == "%" and isinstance(left, str):
            _check_format(left)
        return super().call_binop(context, operator, left, right)

    def wrap_str_format(self, value: Any) -> Any:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _check_format(value.__self__)
        return wrapped


@lru_cache(maxsize=4)
def _environment(autoescape: bool, strict: bool) -> _LimitedEnvironment:
    undefined: type[Undefined] = StrictUndefined if strict else Undefined
    return _LimitedEnvironment(autoescape=autoescape, undefined=undefined, keep_trailing_newline=False)


@lru_cache(maxsize=512)
def _compiled(source: str, autoescape: bool, strict: bool) -> Template:
    """Compile ``source`` once; keyed by the source text itself, so tenants never share by name."""
    return _environment(autoescape, strict).from_string(source)


def render_text(source: str, data: dict[str, Any], *, autoescape: bool = False, strict: bool = False,
                max_chars: int = MAX_BLOCK_OUTPUT_CHARS) -> str:
    """Render a tenant template with ``data`` within the time and size limits.

    Raises :class:`jinja2.TemplateError` (:class:`BlockLimitExceeded` for a broken limit, and
    ``UndefinedError`` for an unknown field when ``strict``) and the arithmetic and type errors a
    template expression can raise.
    """
    token = _deadline.set(time.monotonic() + MAX_RENDER_SECONDS)
    try:
        template = _compiled(source, autoescape, strict)
        written, parts = 0, []
        for part in template.generate(**data):
            written += len(part)
            if written > max_chars:
                raise BlockLimitExceeded("template wrote more than its size limit")
            if time.monotonic() > _deadline.get():
                raise BlockLimitExceeded("template ran past its time limit")
            parts.append(part)
    finally:
        _deadline.reset(token)
    return "".join(parts)


def render_block(source: str, data: dict[str, str | int | float | None], tenant: str = "") -> Markup:
    """Render a tenant's content block with ``data``; empty markup when it fails or breaks a limit."""
    if not source or len(source) > MAX_BLOCK_SOURCE_CHARS:
        return Markup("")
    try:
        html = render_text(source, data, autoescape=True)
    except (TemplateError, ArithmeticError, TypeError, ValueError, OverflowError) as exc:
        logger.warning("tenant %s: content block not shown: %s", tenant, exc)
        return Markup("")
    return Markup(html)  # noqa: S704 - rendered with autoescape on
