"""Invented household customers: Faker ``it_IT`` names and streets with valid fiscal codes."""

from __future__ import annotations

import random
import unicodedata
from datetime import date

from faker import Faker

from bolletta.platform.demo.bills import Address, Person
from bolletta.platform.demo.identity import TOWNS, fiscal_code, mobile_number

# Domains reserved for documentation (RFC 2606), so no demo message can reach a real mailbox.
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")


def _mailbox_part(text: str) -> str:
    """Return ``text`` as lower-case ASCII letters only, for the local part of an address."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(char for char in folded.lower() if char.isalpha())


def make_person(faker: Faker, rng: random.Random) -> Person:
    """Return one adult customer living in one of the demo towns."""
    female = rng.random() < 0.5
    first_name = faker.first_name_female() if female else faker.first_name_male()
    surname = faker.last_name()
    town = rng.choice(TOWNS)
    birth_date = date(rng.randint(1945, 2000), rng.randint(1, 12), rng.randint(1, 28))
    street = f"{faker.street_name()} {faker.building_number()}"
    email = f"{_mailbox_part(first_name)}.{_mailbox_part(surname)}@{rng.choice(EMAIL_DOMAINS)}"
    return Person(
        first_name=first_name,
        surname=surname,
        fiscal_code=fiscal_code(first_name, surname, birth_date, female, town),
        address=Address(street, town.postcode, town.name, town.province),
        email=email,
        mobile=mobile_number(rng),
    )


def make_people(faker: Faker, rng: random.Random, count: int) -> list[Person]:
    """Return ``count`` customers with distinct fiscal codes, e-mail addresses and mobile numbers."""
    people: list[Person] = []
    seen: set[str] = set()
    while len(people) < count:
        person = make_person(faker, rng)
        keys = {person.fiscal_code, person.email, person.mobile}
        if keys & seen:
            continue
        seen |= keys
        people.append(person)
    return people
