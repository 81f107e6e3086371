"""The settings as an operator reads them: the reference page and the start-up log line.

The reference is built from :class:`~bolletta.platform.settings.Settings` itself (each field's type,
default and docstring), so ``docs/configuration.md`` cannot drift from the code: a test compares the
file with :func:`reference_markdown`.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import typing
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import msgspec

from bolletta.platform.settings import ENV_PREFIX, Settings

SECRET_FIELDS = frozenset({"secret_key", "previous_secret_keys", "encryption_keys", "metrics_token"})
"""Fields whose values never appear in logs or listings."""


EXAMPLES: dict[str, str] = {
    "data_dir": "/var/lib/bolletta",
    "database_url": "postgresql+psycopg://bolletta@db.internal:5432/bolletta",
    "broker_url": "redis://redis.internal:6379/0",
    "secret_key": "(64 random hex characters: python -c 'import secrets; print(secrets.token_hex(32))')",
    "previous_secret_keys": "(the secret before the last rotation),(the one before it)",
    "encryption_keys": "(newest key from cryptography.fernet.Fernet.generate_key()),(previous key)",
    "platform_host": "bollette.example.it",
    "public_base_url": "https://bollette.example.it",
    "smtp_url": "smtps://notifiche:password@smtp.example.it:465",
    "operations_email": "operazioni@example.it",
    "http_host": "0.0.0.0",
    "sftp_host": "0.0.0.0",
    "fatturapa_xsd_dir": "/srv/bolletta/xsd",
}
"""Examples for the fields whose default is empty or does not show the expected form."""


def field_docs() -> dict[str, str]:
    """Return each settings field's docstring, read from the source of :class:`Settings`."""
    tree = ast.parse(inspect.getsource(Settings))
    body = tree.body[0].body if isinstance(tree.body[0], ast.ClassDef) else []
    docs: dict[str, str] = {}
    for statement, following in itertools.pairwise(body):
        if (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            # Markdown code spans take single backticks where the docstrings use reST's double ones.
            docs[statement.target.id] = " ".join(following.value.value.split()).replace("``", "`")
    return docs


def reference_markdown() -> str:
    """Return the text of ``docs/configuration.md``."""
    docs = field_docs()
    lines = [
        "# Configuration",
        "",
        "Every setting is an environment variable; an optional `.env` file in the working directory is",
        "read first, and real environment variables win over it. Values are checked when a command",
        "starts: a wrong type or value stops it with a message naming the variable. Lists are",
        "comma-separated. Sizes are in bytes and durations in seconds unless the name says otherwise.",
        "",
        "This page is generated from `bolletta/platform/settings.py` by `bolletta settings doc`.",
        "",
    ]
    for field in msgspec.structs.fields(Settings):
        default = _shown(field.default_factory() if field.default_factory is not msgspec.NODEFAULT else field.default)
        example = EXAMPLES.get(field.name, default)
        lines += [
            f"## `{ENV_PREFIX}{field.name.upper()}`",
            "",
            docs.get(field.name, ""),
            "",
            f"- Type: {_type_name(field.type)}",
            f"- Default: {f'`{default}`' if default else '(empty)'}",
            f"- Example: `{example}`" if example else "- Example: (empty)",
            "",
        ]
    return "\n".join(lines)


def redacted(settings: Settings) -> dict[str, Any]:
    """Return the settings as a dict fit for a log line: secrets masked, URL passwords removed."""
    values = msgspec.structs.asdict(settings)
    for name in SECRET_FIELDS:
        if values.get(name):
            values[name] = "(set)" if isinstance(values[name], str) else f"({len(values[name])} set)"
    for name, value in values.items():
        # Every URL setting may carry a user and password (database, broker, SMTP, voice index...).
        if name.endswith("_url") and isinstance(value, str):
            values[name] = _without_password(value)
    return values


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + netloc))


def _shown(value: Any) -> str:
    if value is msgspec.NODEFAULT:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(value)
    return str(value)


def _type_name(annotation: Any) -> str:
    limits = ""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation, *metadata = typing.get_args(annotation)
        bounds = [f"{label} {getattr(meta, key)}" for meta in metadata
                  for key, label in (("gt", "above"), ("ge", "from"), ("le", "up to"))
                  if getattr(meta, key, None) is not None]
        limits = f" ({', '.join(bounds)})" if bounds else ""
    names = {"str": "text", "int": "integer", "float": "number", "bool": "true or false",
             "list[str]": "comma-separated list of text"}
    name = str(annotation) if typing.get_args(annotation) else getattr(annotation, "__name__", str(annotation))
    return names.get(name, name) + limits
