"""Log records with the ids of what they are about, as readable text or as one JSON object per line.

Code that works on a tenant, a job, a ticket, a message or a payment binds those ids with
:func:`log_context`. Every record logged inside the block carries them as attributes (``tenant``,
``job_id``...). The JSON format writes them as fields, and the text format appends them in brackets.
Actors get them bound from their arguments by :class:`LogContextMiddleware`, and customer requests
get the tenant from their path. The ids are never personal data: a phone number, e-mail address or
ticket token must not be bound or logged.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import re
import threading
from collections.abc import Iterator
from contextvars import ContextVar, Token
from typing import Any

import dramatiq
from dramatiq.broker import Broker, MessageProxy
from dramatiq.middleware import Middleware
from pythonjsonlogger.json import JsonFormatter

CONTEXT_FIELDS = ("tenant", "job_id", "ticket_id", "message_id", "payment_id", "order_id", "actor")
"""Attributes that :func:`log_context` may bind; actor parameters with these names are bound."""

LOG_FORMATS = ("text", "json")

_context: ContextVar[dict[str, Any]] = ContextVar("bolletta_log_context", default={})  # noqa: B039


@contextlib.contextmanager
def log_context(**ids: Any) -> Iterator[None]:
    """Bind ``ids`` (a subset of :data:`CONTEXT_FIELDS`) to every record logged in the block."""
    token = bind(**ids)
    try:
        yield
    finally:
        _context.reset(token)


def bind(**ids: Any) -> Token[dict[str, Any]]:
    """Add ``ids`` to the current context and return the token that :func:`unbind` takes."""
    unknown = set(ids) - set(CONTEXT_FIELDS)
    if unknown:
        raise ValueError(f"log context fields {sorted(unknown)} are not allowed; use {', '.join(CONTEXT_FIELDS)}")
    return _context.set({**_context.get(), **{key: value for key, value in ids.items() if value is not None}})


def unbind(token: Token[dict[str, Any]]) -> None:
    """Restore the context as it was before :func:`bind` returned ``token``."""
    _context.reset(token)


class ContextFilter(logging.Filter):
    """Copies the bound ids onto each record, so any handler and formatter can use them."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            setattr(record, key, value)
        return True


SECRET_PATH = re.compile(r"(/t/|/password-reset/)[0-9A-Za-z_-]{16,}")
"""Paths whose last segment is a credential: a customer link's ticket token, a password-reset token."""

QUIET_LOGGERS = ("httpx", "httpcore")
"""Libraries that log whole request URLs at info level; kept at warning so no token or number leaks."""

ROUTINE_LOGGERS = ("alembic.runtime.plugins",)
"""Library loggers whose info lines are routine set-up at every start, kept at warning. Alembic 1.18
logs one ``setup plugin`` line per built-in plugin when it is imported. Its migration lines come from
``alembic.runtime.migration`` and still show."""


class TokenRedactingFilter(logging.Filter):
    """Replaces tokens in URL paths of a record's message (uvicorn's access log writes every path)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if SECRET_PATH.search(message):
            record.msg = SECRET_PATH.sub(r"\1***", message)
            record.args = ()
        return True


class TextFormatter(logging.Formatter):
    """The development format: time, level, logger and message, then the bound ids in brackets."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        ids = " ".join(f"{key}={getattr(record, key)}" for key in CONTEXT_FIELDS if hasattr(record, key))
        return f"{text} [{ids}]" if ids else text


def configure_logging(level: int, log_format: str = "text") -> None:
    """Send records at ``level`` and above to standard error in ``log_format`` (``text`` or ``json``).

    Raises:
        ValueError: ``log_format`` is neither ``text`` nor ``json``.
    """
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format {log_format!r} is not valid; use text or json (BOLLETTA_LOG_FORMAT)")
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    handler.addFilter(TokenRedactingFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        ))
    else:
        handler.setFormatter(TextFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for name in (*QUIET_LOGGERS, *ROUTINE_LOGGERS):
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


class LogContextMiddleware(Middleware):
    """Binds the actor's name and its id arguments (``tenant``, ``job_id``...) while it runs."""

    def __init__(self) -> None:
        self._tokens = threading.local()

    def before_process_message(self, broker: Broker, message: MessageProxy) -> None:
        ids: dict[str, Any] = {"actor": message.actor_name}
        try:
            function = broker.get_actor(message.actor_name).fn
            arguments = inspect.signature(function).bind_partial(*message.args, **message.kwargs).arguments
        except (dramatiq.errors.ActorNotFound, TypeError):
            arguments = {}
        ids.update({name: value for name, value in arguments.items() if name in CONTEXT_FIELDS})
        self._tokens.token = bind(**ids)

    def after_process_message(
        self, broker: Broker, message: MessageProxy, *, result: object = None,
        exception: BaseException | None = None,
    ) -> None:
        self._unbind()

    def after_skip_message(self, broker: Broker, message: MessageProxy) -> None:
        self._unbind()

    def _unbind(self) -> None:
        token = getattr(self._tokens, "token", None)
        if token is not None:
            unbind(token)
            self._tokens.token = None
