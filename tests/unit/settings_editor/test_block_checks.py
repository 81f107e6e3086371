"""The page section's trial render of content blocks: Italian problems, logged escape attempts."""

from __future__ import annotations

import logging

import pytest

from bolletta.platform.i18n.message import render
from bolletta.tenants.settings_editor.checks import _block_problem

SECRET_NAME = "Ottavia Segretissima"
"""A made-up name standing for personal data a block may contain, which the security log must leave out."""


@pytest.mark.parametrize(("source", "italian"), [
    ("Ciao {{ customer }}", "customer non è un campo utilizzabile in questo modello; i campi sono amount_due, "
                            "customer_name, document_number, due_date, language, service, state, utility."),
    ("{{ 'x'.ljust(800000000) }}", "oltre il limite di lunghezza: usa larghezze, conteggi e ripetizioni più piccoli"),
    ("{% macro m(n) %}{{ m(n+1) }}{% endmacro %}{{ m(0) }}", "richiama una macro dentro sé stessa senza fine"),
    ("{% for a in range(100000) %}x{% endfor %}", "oltre il limite di lunghezza"),
    ("{% for a in range(10000) %}{% for b in range(1000) %}{{ ''.upper() }}{% endfor %}{% endfor %}",
     "impiega troppo tempo a comporsi: togli i cicli dentro altri cicli"),
    ('{% include "platform/base.html" %}', "Un modello non può includere, importare o estendere un altro modello"),
    ("{{ ''.__class__ }}", "Il modello cerca di usare __class__, che l'ambiente protetto vieta ai modelli"),
    ('<meta http-equiv="refresh" content="0;url=http://127.0.0.1:9/phish">', "Il blocco contiene HTML che la "
                                                                             "pagina non mostra"),
    ("<script>alert(1)</script>", "Il blocco contiene HTML che la pagina non mostra"),
    ('<a href="javascript:alert(1)">Paga</a>', "Il blocco contiene HTML che la pagina non mostra"),
    ('<img src="x" onerror="alert(1)">', "Il blocco contiene HTML che la pagina non mostra"),
    ('<form action="https://acme.example"><input name="iban"></form>', "Il blocco contiene HTML"),
])
def test_bad_block_explained_in_italian(source: str, italian: str) -> None:
    problem = _block_problem("acme", "importi", source)

    assert problem is not None
    assert italian in render(problem, "it")
    assert "undefined" not in render(problem, "it")
    assert "unsafe" not in render(problem, "it")


def test_good_block_accepted() -> None:
    source = '<p>Ciao <strong>{{ customer_name }}</strong>, <a href="https://acme.example">aiuto</a></p>'

    assert _block_problem("acme", "importi", source) is None


def test_escape_attempt_logged_without_template(caplog: pytest.LogCaptureFixture) -> None:
    source = f"{{# {SECRET_NAME} #}}{{{{ cycler.__init__.__globals__ }}}}"

    with caplog.at_level(logging.WARNING, logger="bolletta.security"):
        _block_problem("acme", "importi", source)

    logged = [record.getMessage() for record in caplog.records if record.name == "bolletta.security"]
    assert len(logged) == 1
    assert "tenant acme: content block importi rejected by the sandbox" in logged[0]
    assert "__init__" in logged[0]
    assert SECRET_NAME not in logged[0]
