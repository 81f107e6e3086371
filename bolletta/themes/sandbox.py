"""A tenant's content blocks: Jinja2 fragments rendered in the sandbox, with plain data only.

The fragment sees a few strings and numbers about the bill (never the ORM objects, the request or
the settings), may not reach attributes the sandbox forbids, and is stopped when it runs past
:data:`MAX_RENDER_SECONDS` or writes more than :data:`MAX_BLOCK_OUTPUT_CHARS`. Output is
autoescaped, so a fragment cannot add scripts to the page. A block that fails renders nothing and
is logged for the operator.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

logger = logging.getLogger(__name__)

MAX_BLOCK_SOURCE_CHARS = 5_000
MAX_BLOCK_OUTPUT_CHARS = 20_000
MAX_RENDER_SECONDS = 0.05


class BlockLimitExceeded(TemplateError):
    """Raised when a content block runs too long or writes too much."""


class _LimitedEnvironment(SandboxedEnvironment):
    """The sandbox, checking the deadline at every call the fragment makes."""

    deadline: float = 0.0

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if time.monotonic() > self.deadline:
            raise BlockLimitExceeded("content block ran past its time limit")
        return super().call(__context, __obj, *args, **kwargs)


def render_block(source: str, data: dict[str, str | int | float | None], tenant: str = "") -> Markup:
    """Render a tenant's content block with ``data``; empty markup when it fails or breaks a limit."""
    if not source or len(source) > MAX_BLOCK_SOURCE_CHARS:
        return Markup("")
    environment = _LimitedEnvironment(autoescape=True)
    environment.deadline = time.monotonic() + MAX_RENDER_SECONDS
    try:
        template = environment.from_string(source)
        written, parts = 0, []
        for part in template.generate(**data):
            written += len(part)
            if written > MAX_BLOCK_OUTPUT_CHARS:
                raise BlockLimitExceeded("content block wrote more than its size limit")
            if time.monotonic() > environment.deadline:
                raise BlockLimitExceeded("content block ran past its time limit")
            parts.append(part)
    except (TemplateError, ArithmeticError, TypeError, ValueError, OverflowError) as exc:
        logger.warning("tenant %s: content block not shown: %s", tenant, exc)
        return Markup("")
    return Markup("".join(parts))  # noqa: S704 - rendered with autoescape on
