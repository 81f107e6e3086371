"""Trial render of message texts: sandbox failures explained in Italian, escape attempts logged."""

from __future__ import annotations

import logging
from typing import cast

import pytest

from bolletta.platform.db.database import Database
from bolletta.platform.i18n.message import render
from bolletta.tenants.onboarding import steps
from bolletta.tenants.onboarding.checks import messages_problems
from bolletta.tenants.onboarding.previews import message_previews

NO_DATABASE = cast(Database, None)
"""The message step's check reads no table, so the tests give it no database."""
SECRET_NAME = "Ottavia Segretissima"
"""A made-up name standing for personal data a text may contain, which the security log must leave out."""


def _problems(sms: str, tenant: str = "acme") -> dict[str, str]:
    answers = steps.Messages(texts={"it": {"sms": sms}})
    return {key: render(problem, "it") for key, problem in messages_problems(answers, NO_DATABASE, None,
                                                                               tenant=tenant).items()}


@pytest.mark.parametrize(("sms", "italian"), [
    ("Ciao {{ customer_name }} {{ link }}", "customer_name non è un campo utilizzabile in questo modello; i campi "
                                           "sono document_number, due_date, is_test, link, service_label, utility."),
    ("{% macro m(n) %}{{ m(n+1) }}{% endmacro %}{{ m(0) }} {{ link }}", "richiama una macro dentro sé stessa"),
    ("{{ link.ljust(800000000) }}", "oltre il limite di lunghezza"),
    ("{% for a in range(10000) %}{% for b in range(1000) %}{{ ''.upper() }}{% endfor %}{% endfor %}{{ link }}",
     "impiega troppo tempo"),
    ('{% import "macros.txt" as m %}{{ link }}', "non può includere, importare o estendere"),
    ("{{ link.__class__ }}", "cerca di usare __class__"),
])
def test_bad_text_explained_in_italian(sms: str, italian: str) -> None:
    problems = _problems(sms)

    assert list(problems) == ["texts.it.sms"]
    assert italian in problems["texts.it.sms"]


def test_recursive_preview_is_a_problem_not_a_crash() -> None:
    answers = steps.Messages(texts={"it": {"sms": "{% macro m(n) %}{{ m(n+1) }}{% endmacro %}{{ m(0) }}"}})

    previews = message_previews(answers)

    assert previews.items[0].problem is not None
    assert "richiama una macro" in render(previews.items[0].problem, "it")


def test_escape_attempt_logged_without_text(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bolletta.security"):
        _problems(f"{SECRET_NAME}: {{{{ ''.__class__.__mro__[1].__subclasses__() }}}} {{{{ link }}}}")

    logged = [record.getMessage() for record in caplog.records if record.name == "bolletta.security"]
    assert len(logged) == 1
    assert "tenant acme: message text it.sms rejected by the sandbox" in logged[0]
    assert "__class__" in logged[0]
    assert SECRET_NAME not in logged[0]


def test_unknown_field_not_logged_as_escape(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bolletta.security"):
        _problems("{{ customer }} {{ link }}")

    assert [record for record in caplog.records if record.name == "bolletta.security"] == []
