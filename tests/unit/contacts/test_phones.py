"""The one reading of mobile numbers that contacts files, flows and test recipients share."""

from __future__ import annotations

import pytest

from bolletta.platform.contacts.phones import PhoneProblem, read_mobile
from bolletta.tenants.addresses import mobile_number, normalized_recipients
from bolletta.tenants.config import TestRecipient as Recipient


@pytest.mark.parametrize("typed", ["3331234567", "333 123 4567", "333-1234567", "+39 333 1234567",
                                   "0039 333 1234567", "+393331234567", " 333 1234567 "])
def test_italian_mobile_forms_read_as_e164(typed: str) -> None:
    assert read_mobile(typed) == "+393331234567"


def test_foreign_mobile_keeps_its_country() -> None:
    assert read_mobile("+44 7400 123456") == "+447400123456"


@pytest.mark.parametrize("typed", ["06 1234 5678", "+39 02 12345678", "800 123456"])
def test_landline_and_toll_free_not_mobile(typed: str) -> None:
    assert read_mobile(typed) is PhoneProblem.NOT_MOBILE


@pytest.mark.parametrize("typed", ["", "hello", "123", "333 12", "+39 333 1234567 89 01"])
def test_invalid_values_rejected(typed: str) -> None:
    assert read_mobile(typed) is PhoneProblem.INVALID


def test_mobile_number_none_for_landline() -> None:
    assert mobile_number("333 123 4567") == "+393331234567"
    assert mobile_number("06 1234 5678") is None


def test_recipients_normalized_per_kind() -> None:
    typed = [Recipient(channel="sms", address="333 123 4567"),
             Recipient(channel="whatsapp", address="0039 347-1234567"),
             Recipient(channel="email", address="Prove@Acme.it"),
             Recipient(channel="sms", address="06 1234 5678"),
             Recipient(channel="fax", address="333 123 4567")]

    normalized = normalized_recipients(typed)

    assert [recipient.address for recipient in normalized] == [
        "+393331234567", "+393471234567", "Prove@Acme.it", "06 1234 5678", "333 123 4567"]
    assert [recipient.channel for recipient in normalized] == ["sms", "whatsapp", "email", "sms", "fax"]
    assert typed[0].address == "333 123 4567"  # the input is left as it was
