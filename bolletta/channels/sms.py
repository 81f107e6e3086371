"""SMS text rules every SMS plugin and the template editor share: encoding, part count, alias.

- GSM 03.38: a text made only of basic-table characters is sent as GSM-7, where the extension
  characters (``| ^ € { } [ ] ~ \\`` and form feed) cost two septets. Any other character switches
  the whole message to UCS-2, where a character outside the Basic Multilingual Plane (most emoji)
  costs two code units.
- One part holds 160 GSM-7 septets or 70 UCS-2 units; a concatenated message holds 153 or 67 per
  part (6-octet UDH with an 8-bit reference).
- AGCOM alias (TPOA, delibera 12/23/CIR): at most 11 characters, letters, digits, space and a few
  signs, not starting with a digit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "\f^{}\\[~]|€"

_BASIC = frozenset(GSM7_BASIC) - {"\x1b"}
_EXTENSION = frozenset(GSM7_EXTENSION)

SINGLE_PART = {"gsm7": 160, "ucs2": 70}
MULTI_PART = {"gsm7": 153, "ucs2": 67}

ALIAS_MAX_LENGTH = 11
_ALIAS_CHARACTERS = re.compile(r"^[A-Za-z0-9 .\-_&+']+$")


@dataclass(frozen=True)
class SmsLength:
    """Encoding and size of an SMS text."""

    encoding: str
    """``gsm7`` or ``ucs2``."""
    units: int
    """Septets (GSM-7) or UTF-16 code units (UCS-2) the text takes."""
    characters: int
    """Characters as a person counts them."""
    parts: int
    """Messages the operator bills (0 for an empty text)."""
    per_part: int
    """Units one part holds for this text (160/153 or 70/67)."""


def is_gsm7(text: str) -> bool:
    """Return whether every character of ``text`` is in the GSM 03.38 basic or extension table."""
    return all(char in _BASIC or char in _EXTENSION for char in text)


def measure(text: str) -> SmsLength:
    """Return the encoding, units and part count of ``text``."""
    if is_gsm7(text):
        encoding = "gsm7"
        units = sum(2 if char in _EXTENSION else 1 for char in text)
    else:
        encoding = "ucs2"
        units = len(text.encode("utf-16-le")) // 2
    if units == 0:
        parts, per_part = 0, SINGLE_PART[encoding]
    elif units <= SINGLE_PART[encoding]:
        parts, per_part = 1, SINGLE_PART[encoding]
    else:
        per_part = MULTI_PART[encoding]
        parts = _gsm7_parts(text, per_part) if encoding == "gsm7" else _ucs2_parts(text, per_part)
    return SmsLength(encoding=encoding, units=units, characters=len(text), parts=parts, per_part=per_part)


def _gsm7_parts(text: str, per_part: int) -> int:
    """Count parts without splitting an escape sequence across two parts."""
    parts, used = 1, 0
    for char in text:
        cost = 2 if char in _EXTENSION else 1
        if used + cost > per_part:
            parts, used = parts + 1, 0
        used += cost
    return parts


def _ucs2_parts(text: str, per_part: int) -> int:
    """Count UCS-2 parts without splitting a surrogate pair across two parts."""
    parts, used = 1, 0
    for char in text:
        cost = 2 if ord(char) > 0xFFFF else 1
        if used + cost > per_part:
            parts, used = parts + 1, 0
        used += cost
    return parts


def alias_problems(alias: str) -> list[str]:
    """Return what makes ``alias`` break the AGCOM rules; empty when it may be used.

    A numeric sender (an international number, ``+39...``) is accepted as is.
    """
    if not alias:
        return ["the alias is empty"]
    if re.fullmatch(r"\+?[0-9]{6,16}", alias):
        return []
    problems = []
    if len(alias) > ALIAS_MAX_LENGTH:
        problems.append(f"the alias has {len(alias)} characters; AGCOM allows at most {ALIAS_MAX_LENGTH}")
    if alias[0].isdigit():
        problems.append("the alias starts with a digit, which AGCOM does not allow")
    if not _ALIAS_CHARACTERS.match(alias):
        problems.append("the alias may hold only letters, digits, spaces and . - _ & + '")
    return problems
