"""Checks of the e-mail addresses and mobile numbers staff type into a tenant's settings.

The onboarding wizard and the settings pages show the translatable problems next to their fields;
:func:`test_recipient_errors` gives every other writer of the settings (``bolletta tenant settings
set``, a restore) the same checks as plain English. A phone number is never shown whole in a problem.
"""

from __future__ import annotations

from collections.abc import Sequence

from email_validator import EmailNotValidError, validate_email

from bolletta.channels.base import MESSAGE_KINDS
from bolletta.platform.contacts.phones import read_mobile
from bolletta.platform.i18n.message import T_, Text
from bolletta.platform.privacy import mask_contact
from bolletta.tenants.config import TestRecipient

PHONE_KINDS = ("sms", "whatsapp")
_PHONE_DIGITS_SHOWN = 5
"""A typed value with more digits than this may be a phone number, so problems show it masked."""


def email_problem(address: str) -> Text | None:
    """Return why ``address`` is not a usable e-mail address, or ``None``; no DNS lookup is made."""
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return T_("{value} is not a valid e-mail address, such as bollette@acme.it.", value=address)
    return None


def mobile_number(raw: str) -> str | None:
    """Return the E.164 form of a mobile number (Italian without a ``+`` prefix), or ``None`` when it is not one."""
    number = read_mobile(raw)
    return number if isinstance(number, str) else None


def shown_phone(raw: str) -> str:
    """Return a typed phone value as problems may show it: masked when it has enough digits to be a number."""
    if sum(character.isdigit() for character in raw) > _PHONE_DIGITS_SHOWN:
        return mask_contact(raw)
    return raw


def normalized_recipients(recipients: Sequence[TestRecipient]) -> list[TestRecipient]:
    """Return ``recipients`` with each SMS and WhatsApp number in E.164 form, as the test batch dials it.

    An address that is not a mobile number stays as typed, so :func:`test_recipient_errors` can
    report it.
    """
    normalized = []
    for recipient in recipients:
        number = mobile_number(recipient.address) if recipient.channel in PHONE_KINDS else None
        normalized.append(TestRecipient(channel=recipient.channel, address=number or recipient.address))
    return normalized


def test_recipient_errors(recipients: Sequence[TestRecipient]) -> list[str]:
    """Check each test recipient's kind and address, and return one English error per bad field.

    Each error names the field (``test_recipients[0].address``), the value with phone numbers masked,
    and the fix.
    """
    kinds = ", ".join(sorted(MESSAGE_KINDS))
    errors = []
    for index, recipient in enumerate(recipients):
        field = f"test_recipients[{index}]"
        channel, address = recipient.channel, recipient.address
        if channel not in MESSAGE_KINDS:
            errors.append(f"{field}.channel: {channel!r} is not a message kind; use one of {kinds}.")
        elif not address.strip():
            errors.append(f"{field}.address is empty; give the address that receives the {channel} test messages.")
        elif channel == "email" and email_problem(address) is not None:
            errors.append(f"{field}.address: {address!r} is not a valid e-mail address; write one such as "
                          "bollette@acme.it.")
        elif channel in PHONE_KINDS and mobile_number(address) is None:
            errors.append(f"{field}.address: {shown_phone(address)!r} is not a valid mobile number for {channel}; "
                          "write one such as +39 333 1234567 (Italian when it has no + prefix).")
    return errors
