"""Validation of pagoPA notice codes ("numero avviso"), as FatturaPA sends them in ``CodicePagamento``.

A notice code has 18 digits, and the first one (the aux digit) sets the layout of the other 17:

- ``0``: application code (2 digits), IUV base (13), check digits (2);
- ``1``: IUV base (17), with no check digits;
- ``2``: IUV base (15), check digits (2), an older layout;
- ``3``: segregation code (2), IUV base (13), check digits (2).

The check digits are the remainder of the division by 93 of the number formed by the first 16
digits, left-padded to two digits (pagoPA SACI, "Generazione del Numero Avviso e del codice IUV").
"""

from __future__ import annotations

import re

from bolletta.platform.i18n.message import T_, Text

NOTICE_CODE_DIGITS = 18
CHECK_MODULUS = 93

_WHITESPACE = re.compile(r"\s")
"""Printed notice codes group the digits by four with spaces, and some exports copy them so."""

_CHECKED_AUX_DIGITS = frozenset("023")
# NOTE: current SACI versions describe aux digits 0, 1 and 3 only. Codes starting with 2 (an older
# layout) are assumed to use the same mod-93 check as 0 and 3.


def normalize_notice_code(raw: str) -> str:
    """Return ``raw`` without the spaces used when the code is printed."""
    return _WHITESPACE.sub("", raw)


def notice_code_problem(code: str) -> Text | None:
    """Return why a normalized ``code`` is not a valid notice code, or ``None`` when it is valid.

    The reason is a clause such as "it has 17 digits, not 18", to put in a longer message.
    """
    if not code.isascii() or not code.isdigit():
        return T_("it contains characters other than digits")
    if len(code) != NOTICE_CODE_DIGITS:
        return T_("it has {count} digits, not {expected}", count=len(code), expected=NOTICE_CODE_DIGITS)
    aux_digit = code[0]
    if aux_digit == "1":
        return None
    if aux_digit not in _CHECKED_AUX_DIGITS:
        return T_("it starts with {digit}, but a notice code starts with 0, 1, 2 or 3", digit=aux_digit)
    expected = check_digits(code[:16])
    if code[16:] != expected:
        return T_(
            "it ends with the check digits {found}, but the first 16 digits require {expected}",
            found=code[16:],
            expected=expected,
        )
    return None


def check_digits(prefix: str) -> str:
    """Return the two check digits that complete the 16-digit ``prefix`` of a notice code.

    Raises:
        ValueError: ``prefix`` is not 16 digits.
    """
    if len(prefix) != NOTICE_CODE_DIGITS - 2 or not prefix.isascii() or not prefix.isdigit():
        raise ValueError(f"a notice code prefix has 16 digits, not {prefix!r}")
    return f"{int(prefix) % CHECK_MODULUS:02d}"
