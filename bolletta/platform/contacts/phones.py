"""Mobile numbers as every part of the platform reads them: E.164 through phonenumbers, Italy by default.

Contacts CSV files, the JSON Lines flow and the tenant's test recipients accept the same forms
(``3331234567``, ``333 123 4567``, ``+39 333…``, ``0039 333…``) and store the same E.164 value
(``+393331234567``). A landline or another number that is not a mobile cannot receive SMS or
WhatsApp messages, so it is refused. Each caller words the refusal for its own readers.
"""

from __future__ import annotations

import enum

import phonenumbers

DEFAULT_REGION = "IT"
"""Region of a number typed without an international prefix."""
MOBILE_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
"""Number types that may receive SMS and WhatsApp messages. ``FIXED_LINE_OR_MOBILE`` is the type of
regions whose numbering plan does not tell the two apart."""


class PhoneProblem(enum.Enum):
    """Reason a typed value is not a usable mobile number."""

    INVALID = "invalid"
    """Not a phone number at all, or not a valid one for its region."""
    NOT_MOBILE = "not_mobile"
    """A valid number of another type, such as a landline."""


def read_mobile(raw: str) -> str | PhoneProblem:
    """Return the E.164 form of the mobile number ``raw``, or the :class:`PhoneProblem` that stops it."""
    try:
        number = phonenumbers.parse(raw, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return PhoneProblem.INVALID
    if not phonenumbers.is_valid_number(number):
        return PhoneProblem.INVALID
    if phonenumbers.number_type(number) not in MOBILE_TYPES:
        return PhoneProblem.NOT_MOBILE
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
