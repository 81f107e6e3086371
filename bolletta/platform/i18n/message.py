"""Messages for staff that are stored first and translated when shown: the job report and bill warnings.

The flow readers have no language to write in, so they return a ``Text``: an English msgid with
named ``str.format`` placeholders, and the values to put in them. The job report stores it as JSON
(``{"msgid": ..., "params": {...}}``), and the backoffice page and the staff e-mails translate it
with :func:`render`. ``T_`` builds a ``Text`` and is registered as a keyword in ``babel.cfg``, so
``pybabel extract`` finds every msgid written as ``T_("...", name=value)``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Union

import msgspec

from bolletta.platform.i18n.catalog import gettext

logger = logging.getLogger(__name__)

Param = Union[str, int, "Text"]
"""A placeholder value. A nested ``Text`` is translated into the same language before it is put in."""


class Text(msgspec.Struct, frozen=True):
    """An English msgid with named placeholders, and their values."""

    msgid: str
    params: dict[str, Param] = {}

    def with_params(self, **params: Param) -> Text:
        """Return a copy with ``params`` added, for a caller with more context (such as the file name)."""
        return Text(self.msgid, {**self.params, **params})


def T_(msgid: str, /, **params: Param) -> Text:
    """Mark ``msgid`` for extraction and return it with ``params`` as a ``Text`` to translate later."""
    return Text(msgid, params)


def render(text: Text | Mapping[str, Any] | str, language: str = "it") -> str:
    """Translate ``text`` into ``language`` and fill in its placeholders.

    ``text`` is a ``Text``, its JSON form as the job report stores it, or a plain string. A plain
    string comes from reports and bills stored before messages were translatable, and is returned
    as it is. A translation whose placeholders do not match the params falls back to the English
    msgid, and is logged.
    """
    if isinstance(text, str):
        return text
    if not isinstance(text, Text):
        text = msgspec.convert(text, Text)

    values = {
        name: render(value, language) if isinstance(value, Text) else value
        for name, value in text.params.items()
    }
    translated = gettext(language, text.msgid)
    try:
        return translated.format(**values)
    except (KeyError, IndexError, ValueError) as exc:
        logger.warning("translation of %r into %s does not match its params (%s)", text.msgid, language, exc)
        return text.msgid.format(**values)


def to_json(text: Text | str) -> Any:
    """Return ``text`` as the JSON value the job report and ``Bill.warnings`` store."""
    return text if isinstance(text, str) else msgspec.to_builtins(text)
