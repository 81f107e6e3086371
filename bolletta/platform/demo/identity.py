"""Fake Italian identifiers that pass their check-digit rules, for demo and test data only.

Every function draws from the ``random.Random`` it is given, so a seeded generator gives the same
identifiers every run. The numbers are syntactically valid but invented: none is looked up anywhere.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date

from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.it import codicefiscale

# Common Italian mobile prefixes, which all start with 3. The 7 digits after them are random.
MOBILE_PREFIXES = ("320", "328", "329", "333", "338", "340", "345", "347", "349", "366", "380", "389", "393")

# Months in an Italian fiscal code are letters, January to December.
FISCAL_CODE_MONTHS = "ABCDEHLMPRST"

# Check-character values of the characters in odd positions (1st, 3rd...), shared by the Italian
# fiscal code and the CIN of an Italian bank account. Digits 0-9 take the values of letters A-J.
# fmt: off
ODD_POSITION_VALUES = (
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18,
    20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
)
# fmt: on


@dataclass(frozen=True)
class Town:
    """An Italian municipality with its postcode, province and cadastral (Belfiore) code."""

    name: str
    postcode: str
    province: str
    cadastral_code: str


TOWNS = (
    Town("Roma", "00184", "RM", "H501"),
    Town("Milano", "20121", "MI", "F205"),
    Town("Torino", "10121", "TO", "L219"),
    Town("Napoli", "80133", "NA", "F839"),
    Town("Bologna", "40121", "BO", "A944"),
    Town("Firenze", "50122", "FI", "D612"),
    Town("Genova", "16121", "GE", "D969"),
    Town("Verona", "37121", "VR", "L781"),
)


def random_digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))


def vat_number(base: str, office: str = "015") -> str:
    """Return an 11-digit partita IVA from a 7-digit ``base`` and a 3-digit tax office code.

    The check digit is the Luhn digit, as ``stdnum.it.iva`` validates it.
    """
    number = base + office
    return number + luhn.calc_check_digit(number)


def random_vat_number(rng: random.Random) -> str:
    return vat_number(str(rng.randint(1_000_000, 9_999_999)), f"{rng.randint(1, 100):03d}")


def _letters(text: str) -> str:
    """Return the upper-case A-Z letters of ``text``, with accents removed."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(char for char in folded.upper() if "A" <= char <= "Z")


def _split_letters(text: str) -> tuple[str, str]:
    letters = _letters(text)
    consonants = "".join(char for char in letters if char not in "AEIOU")
    vowels = "".join(char for char in letters if char in "AEIOU")
    return consonants, vowels


def _surname_part(surname: str) -> str:
    consonants, vowels = _split_letters(surname)
    return (consonants + vowels + "XXX")[:3]


def _name_part(name: str) -> str:
    consonants, vowels = _split_letters(name)
    if len(consonants) >= 4:
        # A first name with four or more consonants uses the 1st, 3rd and 4th of them.
        return consonants[0] + consonants[2] + consonants[3]
    return (consonants + vowels + "XXX")[:3]


def fiscal_code(first_name: str, surname: str, birth_date: date, female: bool, town: Town) -> str:
    """Return the codice fiscale of a person born in an Italian ``town``, check character included.

    Homonyms, which the tax office separates by replacing digits with letters, are not modelled.
    """
    day = birth_date.day + (40 if female else 0)
    body = (
        _surname_part(surname)
        + _name_part(first_name)
        + f"{birth_date.year % 100:02d}"
        + FISCAL_CODE_MONTHS[birth_date.month - 1]
        + f"{day:02d}"
        + town.cadastral_code
    )
    return body + codicefiscale.calc_check_digit(body)


def _bank_account_cin(bank_code: str, branch_code: str, account: str) -> str:
    """Return the CIN letter that precedes ABI, CAB and account number in an Italian BBAN."""
    total = 0
    for position, char in enumerate(bank_code + branch_code + account):
        value = int(char) if char.isdigit() else ord(char) - ord("A")
        # Positions count from 1 in the rule, so even indexes here are the odd positions.
        total += ODD_POSITION_VALUES[value] if position % 2 == 0 else value
    return chr(ord("A") + total % 26)


def italian_iban(rng: random.Random) -> str:
    """Return an Italian IBAN with random bank, branch and account, a correct CIN and check digits."""
    bank_code = random_digits(rng, 5)
    branch_code = random_digits(rng, 5)
    account = random_digits(rng, 12)
    bban = _bank_account_cin(bank_code, branch_code, account) + bank_code + branch_code + account
    check_digits = stdnum_iban.calc_check_digits("IT00" + bban)
    return f"IT{check_digits}{bban}"


def mobile_number(rng: random.Random) -> str:
    """Return an Italian mobile number in E.164 form, such as ``+393331234567``."""
    return "+39" + rng.choice(MOBILE_PREFIXES) + random_digits(rng, 7)


def electricity_pod(rng: random.Random) -> str:
    """Return a POD code of the kind distribution operators assign: ``IT001E`` and 8 digits."""
    return "IT001E" + random_digits(rng, 8)


def gas_pdr(rng: random.Random) -> str:
    """Return a 14-digit PDR code."""
    return random_digits(rng, 14)


def pagopa_notice_code(rng: random.Random, segregation_code: str = "01") -> str:
    """Return an 18-digit pagoPA notice code with aux digit 3.

    Layout: aux digit, 2-digit segregation code, 13-digit IUV base, then 2 check digits that are the
    remainder of the first 16 digits, read as one integer, divided by 93.
    NOTE: this check-digit rule is written from memory of the pagoPA layout, not checked against
    the pagoPA specification.
    """
    prefix = "3" + segregation_code + random_digits(rng, 13)
    return f"{prefix}{int(prefix) % 93:02d}"
