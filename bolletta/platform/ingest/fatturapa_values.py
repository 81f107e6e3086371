"""Typed values read from FatturaPA elements, with errors that name the element."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from lxml import etree

from bolletta.platform.i18n.message import T_, Text
from bolletta.platform.ingest.safe_xml import text

_XSD_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:Z|[+-]\d{2}:\d{2})?")
"""An ``xs:date``: the day, optionally followed by a time zone, which a calendar date ignores."""

_dates: dict[str, date] = {}
"""Valid date texts already read: a flow repeats the same issue, due and period dates."""
DATES_MAX = 4096
"""Date texts remembered in ``_dates``. A full ``_dates`` is emptied and filled again."""


class BodyError(ValueError):
    """Raised when one body cannot become a bill; carries the reason and the element path.

    ``reason`` has a ``{file}`` placeholder, and a ``{body}`` one (the body's position in the file)
    when the problem is inside a body; ``read_fatturapa`` fills both in.
    """

    def __init__(self, reason: Text, field: str | None = None) -> None:
        super().__init__(reason.msgid)
        self.reason = reason
        self.field = field


def decimal_at(element: etree._Element | None, *path: str, label: str) -> Decimal | None:
    """Return the decimal at ``path`` exactly as written, or ``None`` when it is missing.

    Raises:
        BodyError: the value is not a dot decimal such as ``204.16``.
    """
    return decimal_value(text(element, *path), path, label=label)


def decimal_value(raw: str | None, path: tuple[str, ...], *, label: str) -> Decimal | None:
    """Return :func:`decimal_at` of the text ``raw`` already read at ``path``."""
    if raw is None:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise BodyError(
            T_(
                "{file}, body {body} was rejected: {element} is {value}, which is not a decimal number "
                "with a dot (such as 204.16). Correct the billing export.",
                element=f"{label} {'/'.join(path)}",
                value=repr(raw),
            ),
            field="/".join(path),
        )
    return value


def date_at(element: etree._Element | None, *path: str, label: str) -> date | None:
    """Return the ISO date at ``path``, or ``None`` when it is missing.

    Raises:
        BodyError: the value is not a date in ``YYYY-MM-DD`` form.
    """
    return date_value(text(element, *path), path, label=label)


def date_value(raw: str | None, path: tuple[str, ...], *, label: str) -> date | None:
    """Return :func:`date_at` of the text ``raw`` already read at ``path``."""
    if raw is None:
        return None
    known = _dates.get(raw)
    if known is not None:
        return known
    match = _XSD_DATE.fullmatch(raw)
    try:
        if match is None:
            raise ValueError(raw)
        value = date.fromisoformat(match.group(1))
    except ValueError:
        raise BodyError(
            T_(
                "{file}, body {body} was rejected: {element} is {value}, which is not a date in "
                "YYYY-MM-DD form. Correct the billing export.",
                element=f"{label} {'/'.join(path)}",
                value=repr(raw),
            ),
            field="/".join(path),
        ) from None
    if len(_dates) >= DATES_MAX:
        _dates.clear()
    _dates[raw] = value
    return value
