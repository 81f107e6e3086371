"""Fake Italian identifiers: each passes python-stdnum or phonenumbers, and known examples match."""

from __future__ import annotations

import random
import re
from datetime import date

import phonenumbers
import pytest
from stdnum import iban
from stdnum.it import codicefiscale, iva

from bolletta.platform.demo import identity
from bolletta.platform.demo.identity import TOWNS

ROMA = TOWNS[0]
SAMPLES = 200


@pytest.fixture
def rng() -> random.Random:
    return random.Random(42)


def test_fiscal_code_textbook_example() -> None:
    # A widely published example code.
    assert identity.fiscal_code("Mario", "Rossi", date(1980, 1, 1), False, ROMA) == "RSSMRA80A01H501U"


def test_fiscal_code_female_day_and_short_surname() -> None:
    code = identity.fiscal_code("Ada", "Fo", date(1990, 7, 3), True, ROMA)
    assert code.startswith("FOXDAA90L43H501")
    assert codicefiscale.is_valid(code)
    assert codicefiscale.get_gender(code) == "F"
    assert codicefiscale.get_birth_date(code) == date(1990, 7, 3)


def test_fiscal_code_name_with_four_consonants() -> None:
    code = identity.fiscal_code("Gianfranco", "D'Amico", date(1975, 12, 31), False, ROMA)
    # GNFRNC gives its 1st, 3rd and 4th consonants. The apostrophe is dropped from the surname.
    assert code[:6] == "DMCGFR"
    assert codicefiscale.is_valid(code)


def test_fiscal_codes_valid_in_every_town(rng: random.Random) -> None:
    for town in TOWNS:
        birth = date(rng.randint(1940, 2005), rng.randint(1, 12), rng.randint(1, 28))
        code = identity.fiscal_code("Niccolò", "Pellé", birth, rng.random() < 0.5, town)
        assert codicefiscale.is_valid(code), code
        assert code[11:15] == town.cadastral_code


def test_vat_numbers_valid(rng: random.Random) -> None:
    assert iva.is_valid(identity.vat_number("0718293", "015"))
    for _ in range(SAMPLES):
        number = identity.random_vat_number(rng)
        assert iva.is_valid(number), number


def test_iban_known_cin() -> None:
    # CIN of a widely published sample Italian IBAN, IT60 X 05428 11101 000000123456.
    assert identity._bank_account_cin("05428", "11101", "000000123456") == "X"


def test_ibans_valid(rng: random.Random) -> None:
    for _ in range(SAMPLES):
        number = identity.italian_iban(rng)
        assert len(number) == 27
        assert iban.is_valid(number), number
        cin, bank, branch, account = number[4], number[5:10], number[10:15], number[15:]
        assert identity._bank_account_cin(bank, branch, account) == cin


def test_mobile_numbers_valid(rng: random.Random) -> None:
    for _ in range(SAMPLES):
        number = phonenumbers.parse(identity.mobile_number(rng))
        assert phonenumbers.is_valid_number(number)
        assert phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE


def test_supply_point_codes(rng: random.Random) -> None:
    assert re.fullmatch(r"IT001E\d{8}", identity.electricity_pod(rng))
    assert re.fullmatch(r"\d{14}", identity.gas_pdr(rng))


def test_pagopa_notice_code_check_digits(rng: random.Random) -> None:
    for _ in range(SAMPLES):
        code = identity.pagopa_notice_code(rng)
        assert re.fullmatch(r"301\d{15}", code), code
        assert int(code[:16]) % 93 == int(code[16:])
