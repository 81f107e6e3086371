"""Tenant-written Jinja2 templates (content blocks, message texts), rendered in the sandbox.

A template sees a few strings and numbers (never the ORM objects, the request or the settings), may
not reach attributes or mutate values as the immutable sandbox forbids, and is stopped when it runs
past :data:`MAX_RENDER_SECONDS` or writes more than its output limit. Values are checked before
they are built (padding widths, replacements, joins, concatenations, ranges), because a single
expression can allocate gigabytes long before the output limit is reached, and everything one
render builds counts against :data:`MAX_BUILT_ITEMS`; macros may not nest deeper than
:data:`MAX_CALL_DEPTH`, and a source longer than :data:`MAX_SOURCE_CHARS` is not compiled. These
limits run in the server process: nothing caps the process's memory as a whole.

Content blocks are autoescaped, then cleaned by :mod:`bolletta.themes.block_html`, so a block cannot
add scripts, forms or redirects to the page; a block that fails renders nothing and is logged for
the operator. E-mail HTML is cleaned by :mod:`bolletta.themes.email_html` the same way.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, Undefined, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.filters import do_format
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.utils import _PassArg
from markupsafe import Markup

from bolletta.themes.block_html import clean_block_html

logger = logging.getLogger(__name__)
security_log = logging.getLogger("bolletta.security")

MAX_BLOCK_SOURCE_CHARS = 5_000
MAX_BLOCK_OUTPUT_CHARS = 20_000
MAX_RENDER_SECONDS = 0.05
MAX_SOURCE_CHARS = 20_000
"""Longest template source compiled at all. Compiling cannot be stopped by the time limit and costs
CPU time and cache memory in proportion to the source, so a longer source is refused before it."""

MAX_VALUE_CHARS = MAX_BLOCK_OUTPUT_CHARS
"""Maximum length of a string, list or padding width that one expression may build."""
MAX_RANGE_ITEMS = 10_000
"""Maximum number of items ``range()`` returns to a template (Jinja's own limit is 100,000)."""
MAX_BUILT_ITEMS = 2_000_000
"""Maximum characters (or list items) that the calls, filters and operators of one render may build in all.

Each value is already capped at :data:`MAX_VALUE_CHARS`. This budget also stops a filter applied
to every item of a long range (``range(10000) | map('center', 19000) | list``), which builds
hundreds of megabytes without writing anything and calls no function the time limit sees."""
MAX_CALL_DEPTH = 40
"""Maximum nesting of calls (macros calling macros) in a template."""
MAX_JSON_INDENT = 8

_deadline: ContextVar[float] = ContextVar("sandbox_deadline", default=math.inf)
"""Monotonic time after which the template being rendered in this thread or task is stopped."""
_depth: ContextVar[int] = ContextVar("sandbox_call_depth", default=0)
_built: ContextVar[int] = ContextVar("sandbox_built_items", default=0)
"""Characters and items the template being rendered in this thread or task has built so far."""


class BlockLimitExceeded(TemplateError):
    """Raised when a tenant template runs too long or writes too much.

    ``kind`` names the limit: ``time``, ``size`` (a value or the output too long), ``source`` (the
    template itself too long) or ``depth`` (calls nested too deeply, such as a macro calling itself
    without end).
    """

    def __init__(self, message: str, kind: str = "size") -> None:
        super().__init__(message)
        self.kind = kind


def _check_size(size: int) -> None:
    if size > MAX_VALUE_CHARS:
        raise BlockLimitExceeded(f"template builds a value of {size} items, past its size limit")


def _counted(result: Any) -> Any:
    """Add the length of ``result`` (a string, bytes, list or tuple) to the render's budget, and return it."""
    if isinstance(result, (str, bytes, list, tuple)):
        built = _built.get() + len(result)
        if built > MAX_BUILT_ITEMS:
            raise BlockLimitExceeded("template builds more text and lists in all than its size limit")
        _built.set(built)
    return result


def _check_deadline() -> None:
    if time.monotonic() > _deadline.get():
        raise BlockLimitExceeded("template ran past its time limit", "time")


def _number(value: Any) -> int:
    """``value`` as an int for a size estimate; anything else counts as 0, and the call itself raises."""
    return value if isinstance(value, int) else 0


def _length(value: Any) -> int:
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else len(str(value))


def _replaced_size(text: str | bytes, old: Any, new: Any, count: Any) -> int:
    if not isinstance(old, type(text)) or not isinstance(new, type(text)):
        return len(text)
    hits = text.count(old) if old else len(text) + 1  # type: ignore[arg-type]
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    return len(text) + hits * max(len(new) - len(old), 0)


def _joined(separator: Any, items: Iterable[Any]) -> tuple[list[Any], int]:
    """Read ``items`` (bounded, as ranges are) and return them with the length of their join."""
    listed = []
    total = 0
    step = _length(separator)
    for item in items:
        listed.append(item)
        total += _length(item) + (step if len(listed) > 1 else 0)
        _check_size(total)
    return listed, total


def _checked_method_call(method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Call a string method that pads, replaces or joins once its result is known to fit.

    Returns ``NotImplemented`` for any other callable, which the sandbox then calls as usual.
    """
    owner = getattr(method, "__self__", None)
    if not isinstance(owner, (str, bytes)):
        return NotImplemented
    name = getattr(method, "__name__", "")
    if name in ("ljust", "rjust", "center", "zfill"):
        _check_size(_number(args[0] if args else kwargs.get("width")))
    elif name == "expandtabs":
        tabs = owner.count("\t" if isinstance(owner, str) else b"\t")  # type: ignore[arg-type]
        _check_size(len(owner) + tabs * _number(args[0] if args else kwargs.get("tabsize", 8)))
    elif name == "replace" and len(args) >= 2:
        _check_size(_replaced_size(owner, args[0], args[1], args[2] if len(args) > 2 else kwargs.get("count", -1)))
    elif name == "join" and len(args) == 1 and not kwargs:
        items, _ = _joined(owner, args[0])
        return method(items)
    return NotImplemented


def _limited_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE_ITEMS:
        raise BlockLimitExceeded(f"template asks for a range of {len(numbers)} numbers, past its size limit")
    return numbers


def _center_size(value: Any, width: Any = 80) -> None:
    _check_size(_number(width))


def _indent_size(value: Any, width: Any = 4, *args: Any, **kwargs: Any) -> None:
    lines = str(value).count("\n") + 1
    _check_size(len(str(value)) + lines * (_number(width) if isinstance(width, int) else _length(width)))


def _wordwrap_size(value: Any, width: Any = 79, break_long_words: Any = True, wrapstring: Any = None,
                   *args: Any, **kwargs: Any) -> None:
    wrap = kwargs.get("wrapstring", wrapstring)
    breaks = len(str(value)) // max(_number(width), 1) + 1
    _check_size(len(str(value)) + breaks * (_length(wrap) if wrap is not None else 1))


def _replace_size(value: Any, old: Any = "", new: Any = "", count: Any = None) -> None:
    _check_size(_replaced_size(str(value), str(old), str(new), -1 if count is None else count))


def _join_size(value: Any, d: Any = "", attribute: Any = None) -> None:
    if attribute is None and isinstance(value, (list, tuple, range, str)):
        _joined(d, value)


def _count_size(value: Any, count: Any = 0, *args: Any, **kwargs: Any) -> None:
    _check_size(_number(count))


def _json_indent(value: Any, indent: Any = None) -> None:
    if isinstance(indent, int) and indent > MAX_JSON_INDENT:
        raise BlockLimitExceeded(f"template indents JSON by {indent}, past its size limit")


def _sum_start(iterable: Any, attribute: Any = None, start: Any = 0) -> None:
    if not isinstance(start, (int, float)):
        raise BlockLimitExceeded("template sums values that are not numbers")


def _metered(filter_: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``filter_`` so each call checks the deadline and counts its result against the budget."""

    @functools.wraps(filter_)
    def metered(*args: Any, **kwargs: Any) -> Any:
        _check_deadline()
        return _counted(filter_(*args, **kwargs))

    return metered


def _guarded(filter_: Callable[..., Any], check: Callable[..., None]) -> Callable[..., Any]:
    """Wrap ``filter_`` so ``check`` receives its arguments (without Jinja's context) before it runs."""
    skip = 1 if _PassArg.from_obj(filter_) is not None else 0

    @functools.wraps(filter_)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        check(*args[skip:], **kwargs)
        return filter_(*args, **kwargs)

    return guarded


_FILTER_CHECKS: dict[str, Callable[..., None]] = {
    "center": _center_size, "indent": _indent_size, "wordwrap": _wordwrap_size, "replace": _replace_size,
    "join": _join_size, "batch": _count_size, "slice": _count_size, "tojson": _json_indent, "sum": _sum_start,
}
"""The filters whose arguments decide how big their result is, with the check run before each."""


class _LimitedCodeGenerator(CodeGenerator):
    """Jinja's code generator, checking the render deadline at the start of every block body.

    The deadline check in each loop body stops nested loops that call nothing and write nothing.
    The generator also joins ``a ~ b`` through the environment, so the length is checked first.
    """

    def blockvisit(self, nodes: Iterable[nodes.Node], frame: Frame) -> None:
        self.writeline("environment.check_deadline()")
        super().blockvisit(nodes, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        else:
            join = "markup_join" if frame.eval_ctx.autoescape else "str_join"
        self.write(f"environment.concat_within_limit({join}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


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

    intercepted_binops = frozenset({"*", "**", "%", "+"})
    code_generator_class = _LimitedCodeGenerator

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.filters["format"] = _checked_format
        for name, check in _FILTER_CHECKS.items():
            self.filters[name] = _guarded(self.filters[name], check)
        for name, filter_ in list(self.filters.items()):
            self.filters[name] = _metered(filter_)
        self.globals["range"] = _limited_range
        self.globals.pop("lipsum", None)

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _check_deadline()
        depth = _depth.get() + 1
        if depth > MAX_CALL_DEPTH:
            raise BlockLimitExceeded("template nests calls past its depth limit", "depth")
        token = _depth.set(depth)
        try:
            if self.is_safe_callable(__obj):
                result = _checked_method_call(__obj, args, kwargs)
                if result is not NotImplemented:
                    return _counted(result)
            return _counted(super().call(__context, __obj, *args, **kwargs))
        finally:
            _depth.reset(token)

    def check_deadline(self) -> None:
        """Raise :class:`BlockLimitExceeded` once the template has run past its time limit."""
        _check_deadline()

    def concat_within_limit(self, join: Callable[[Iterable[Any]], str], parts: tuple[Any, ...]) -> str:
        """Join the parts of ``a ~ b ~ ...`` once their total length is known to fit."""
        _check_size(sum(_length(part) for part in parts))
        return _counted(join(parts))

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "+":
            if isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
                _check_size(len(left) + len(right))
        elif operator == "*":
            sequence, times = (left, right) if isinstance(right, int) else (right, left)
            if isinstance(sequence, (str, list, tuple)) and isinstance(times, int) \
                    and len(sequence) * times > MAX_BLOCK_OUTPUT_CHARS:
                raise BlockLimitExceeded("template repeats a value past its size limit")
        elif operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0 \
                and max(left.bit_length(), 1) * right > MAX_POWER_BITS:
            raise BlockLimitExceeded("template computes a number past its size limit")
        elif operator == "%" and isinstance(left, str):
            _check_format(left)
        return _counted(super().call_binop(context, operator, left, right))

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

    The time limit starts once the template is compiled: compiling is bounded by
    :data:`MAX_SOURCE_CHARS` instead, so the first render of a long but harmless template does not
    fail on a busy machine while later, cached renders pass.

    Raises :class:`jinja2.TemplateError` (:class:`BlockLimitExceeded` for a broken limit, and
    ``UndefinedError`` for an unknown field when ``strict``) and the arithmetic and type errors a
    template expression can raise.
    """
    if len(source) > MAX_SOURCE_CHARS:
        raise BlockLimitExceeded(f"template source has {len(source)} characters, past its limit of "
                                 f"{MAX_SOURCE_CHARS}", "source")
    token = _deadline.set(math.inf)
    built_token = _built.set(0)
    try:
        template = _compiled(source, autoescape, strict)
        _deadline.set(time.monotonic() + MAX_RENDER_SECONDS)
        written, parts = 0, []
        for part in template.generate(**data):
            written += len(part)
            if written > max_chars:
                raise BlockLimitExceeded("template wrote more than its size limit")
            if time.monotonic() > _deadline.get():
                raise BlockLimitExceeded("template ran past its time limit", "time")
            parts.append(part)
    except RecursionError as exc:
        # The call depth limit stops recursive macros first; this catches whatever else nests too
        # deeply (such as thousands of parentheses in the source).
        raise BlockLimitExceeded("template nests past Python's recursion limit", "depth") from exc
    except MemoryError as exc:
        raise BlockLimitExceeded("template ran out of memory") from exc
    finally:
        _deadline.reset(token)
        _built.reset(built_token)
    return "".join(parts)


def log_escape_attempt(tenant: str, template: str, exc: BaseException) -> None:
    """Log on ``bolletta.security`` that ``tenant``'s ``template`` (a name, such as ``texts.it.sms``) broke the sandbox.

    Does nothing unless ``exc`` is a :class:`~jinja2.sandbox.SecurityError`. The log names the
    forbidden access, never the template text, which may hold personal data.
    """
    if isinstance(exc, SecurityError):
        security_log.warning("tenant %s: %s rejected by the sandbox: %s", tenant or "(draft)", template,
                             str(exc)[:200])


def render_block(source: str, data: dict[str, str | int | float | None], tenant: str = "") -> Markup:
    """Render a tenant's content block with ``data`` and keep only the allowed HTML.

    Returns empty markup when the block fails or breaks a limit.
    """
    if not source or len(source) > MAX_BLOCK_SOURCE_CHARS:
        return Markup("")
    try:
        html = render_text(source, data, autoescape=True)
    except (TemplateError, ArithmeticError, TypeError, ValueError, OverflowError) as exc:
        logger.warning("tenant %s: content block not shown: %s", tenant, exc)
        log_escape_attempt(tenant, "content block", exc)
        return Markup("")
    return Markup(clean_block_html(html))  # noqa: S704 - autoescaped, then cleaned to the allowed tags
