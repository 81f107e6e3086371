"""Random identifiers in base62: ticket tokens and bill public ids."""

from __future__ import annotations

import secrets
import string

BASE62_ALPHABET = string.digits + string.ascii_letters
TICKET_TOKEN_LENGTH = 22
"""22 base62 characters carry about 131 bits from the system's cryptographic source."""


_UNIFORM_BYTE_LIMIT = 62 * 4
"""Bytes below 248 map onto the alphabet with ``byte % 62`` uniformly; the others are drawn again."""


def random_base62(length: int = TICKET_TOKEN_LENGTH) -> str:
    """Return ``length`` characters drawn from the base62 alphabet with the system's cryptographic source."""
    chars: list[str] = []
    while len(chars) < length:
        # One call to the source per token instead of one per character: a job draws one public id
        # per bill, so the per-call cost showed in the ingestion benchmark.
        chars.extend(BASE62_ALPHABET[byte % 62] for byte in secrets.token_bytes(length + 8)
                     if byte < _UNIFORM_BYTE_LIMIT)
    return "".join(chars[:length])


def is_base62(value: str, length: int = TICKET_TOKEN_LENGTH) -> bool:
    """True when ``value`` has the shape of a token: exactly ``length`` base62 characters."""
    return len(value) == length and all(char in BASE62_ALPHABET for char in value)
