"""Random identifiers in base62: ticket tokens and bill public ids."""

from __future__ import annotations

import secrets
import string

BASE62_ALPHABET = string.digits + string.ascii_letters
TICKET_TOKEN_LENGTH = 22
"""22 base62 characters carry about 131 bits from the system's cryptographic source."""


def random_base62(length: int = TICKET_TOKEN_LENGTH) -> str:
    """A string of ``length`` characters drawn with ``secrets`` from the base62 alphabet."""
    return "".join(secrets.choice(BASE62_ALPHABET) for _ in range(length))


def is_base62(value: str, length: int = TICKET_TOKEN_LENGTH) -> bool:
    """True when ``value`` has the shape of a token: exactly ``length`` base62 characters."""
    return len(value) == length and all(char in BASE62_ALPHABET for char in value)
