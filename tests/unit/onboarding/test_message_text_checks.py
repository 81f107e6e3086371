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


def _email_problem(html: str, language: str = "it") -> str | None:
    answers = steps.Messages(texts={"it": {"email_subject": "La tua bolletta", "email_text": "Apri {{ link }}",
                                           "email_html": html}})
    problems = messages_problems(answers, NO_DATABASE, None, tenant="acme")
    assert set(problems) <= {"texts.it.email_html"}
    problem = problems.get("texts.it.email_html")
    return None if problem is None else render(problem, language)


@pytest.mark.parametrize(("html", "italian"), [
    ("<p>{{ link }}</p><script>alert(1)</script>", "L'HTML dell'e-mail contiene <script>"),
    ('<img src="cid:header-image@bolletta" onerror="alert(1)">', "L'attributo onerror di <img> verrebbe tolto"),
    ('<a href="javascript:alert(1)">Paga</a>', "Il link javascript:alert(1) verrebbe tolto"),
    ('<a href="data:text/html;base64,PHNjcmlwdD4=">Paga</a>', "Il link data:text/html;base64,PHNjcmlwdD4="),
    ('<a href="/t/abc">Paga</a>', "Il link /t/abc verrebbe tolto"),
    ('<iframe src="https://evil.example/"></iframe>', "contiene <iframe>"),
    ('<form action="https://evil.example/"><input name="pin"></form>', "contiene <form>"),
    ('<p style="width:expression(alert(1))">x</p>', "Lo stile width:expression(alert(1)) di <p>"),
    ('<p style="color:red;background:url(javascript:alert(1))">x</p>', "Lo stile background:url(javascript:alert(1))"),
    ('<td style="background-image:url(https://track.example/p.gif)">x</td>', "Lo stile background-image:url("),
    ("<svg><script>alert(1)</script></svg>", "contiene <svg>"),
    ('<img src="https://track.example/pixel.gif">', "L'immagine https://track.example/pixel.gif verrebbe tolta"),
    ('<html><head><style>p{color:red}</style></head><body><p>x</p></body></html>', "contiene <style>"),
    ('<meta http-equiv="refresh" content="0;url=https://evil.example/">', "L'attributo http-equiv di <meta>"),
    # A branch the sample data does not take is still read, and so is markup built from strings.
    ("{% if is_test %}<script>alert(1)</script>{% endif %}<p>{{ link }}</p>", "contiene <script>"),
    ("{% if amount == '' %}<a href=\"javascript:x()\">x</a>{% endif %}", "Il link javascript:x()"),
    ("{{ ('<scr' + 'ipt>alert(1)</scr' + 'ipt>') | safe }}", "contiene <script>"),
])
def test_hostile_email_html_rejected_at_save(html: str, italian: str) -> None:
    problem = _email_problem(html)

    assert problem is not None
    assert italian in problem
    assert "prima dell'invio" in problem


def test_hostile_email_html_explained_in_english() -> None:
    problem = _email_problem('<a href="javascript:alert(1)">Pay</a>', "en")

    assert problem == ("The link javascript:alert(1) would be removed before sending: links must start with https://, "
                       "http://, mailto: or tel: (never javascript:, data: or a relative address).")


@pytest.mark.parametrize("html", [
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:{{ primary_color }}">'
    '<tr><td align="center" style="padding:8px 16px;font-family:\'Segoe UI\',Arial">'
    '{% if header_image %}<img src="{{ header_image }}" alt="{{ utility }}" width="200">{% endif %}'
    '<h2 style="color:{{ text_on_primary }}">{{ subject }}</h2>'
    '<p>Gentile {{ customer_name }}, importo <strong>{{ amount }}</strong>.</p>'
    '<p><a href="{{ link }}" style="color:#0b4f8a">Apri la bolletta</a> · <a href="mailto:clienti@acme.example">'
    'Scrivici</a> · <a href="tel:+39000000000">Chiamaci</a></p></td></tr></table>',
    "<p>{{ link }}</p><!-- a note for the team -->",
])
def test_plain_email_html_accepted(html: str) -> None:
    assert _email_problem(html) is None


def test_product_email_accepted_as_tenant_text() -> None:
    from bolletta.platform.dispatch.rendering import MESSAGES_DIR

    assert _email_problem((MESSAGES_DIR / "email.html").read_text(encoding="utf-8")) is None


def test_preview_shows_email_html_as_sent() -> None:
    answers = steps.Messages(texts={"it": {"email_html": '<p onclick="x()">{{ link }}</p><script>alert(1)</script>'}})

    previews = message_previews(answers)

    assert previews.items[0].text == "<p>https://bolletta.acme.example/t/AbCdEfGhIjKlMnOpQrStUv</p>"
