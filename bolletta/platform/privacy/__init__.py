"""Personal data: masking contacts for lists, logs and console output (here), subject requests and retention."""

from __future__ import annotations

MASK = "•••"


def mask_contact(address: str) -> str:
    """``+39 333 ••• ••67`` for a phone number, ``m•••@example.it`` for an e-mail address."""
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}{MASK}@{domain}"
    digits = address.replace(" ", "")
    if len(digits) < 6:
        return MASK
    if digits.startswith("+39"):
        return f"+39 {digits[3:6]} {MASK} ••{digits[-2:]}"
    return f"{digits[:3]} {MASK} ••{digits[-2:]}"
