"""Content blocks keep only text formatting, lists, small tables and safe links on the customer page."""

from __future__ import annotations

import pytest

from bolletta.themes.block_html import block_html_changed
from bolletta.themes.sandbox import render_block

HOSTILE_BLOCKS = [
    ('<meta http-equiv="refresh" content="0;url=http://127.0.0.1:9/phish">Avviso', "Avviso"),
    ("<script>location = 'http://127.0.0.1:9/phish'</script>Avviso", "Avviso"),
    ('<img src="x" onerror="alert(1)">Avviso', "Avviso"),
    ('<p onclick="alert(1)">Avviso</p>', "<p>Avviso</p>"),
    ('<a href="javascript:alert(1)">Paga</a>', '<a rel="noopener noreferrer">Paga</a>'),
    ('<a href="JaVaScRiPt:alert(1)">Paga</a>', '<a rel="noopener noreferrer">Paga</a>'),
    ('<a href="data:text/html;base64,PHNjcmlwdD4=">Paga</a>', '<a rel="noopener noreferrer">Paga</a>'),
    ('<form action="http://127.0.0.1:9/phish"><input name="iban"><button>Invia</button></form>Avviso', "Avviso"),
    ('<iframe src="http://127.0.0.1:9/phish"></iframe>Avviso', "Avviso"),
    ('<style>body { display: none }</style>Avviso', "Avviso"),
    ('<base href="http://127.0.0.1:9/">Avviso', "Avviso"),
    ('<svg onload="alert(1)"></svg>Avviso', "Avviso"),
    ('<div style="position: fixed">Avviso</div>', "Avviso"),
]


@pytest.mark.parametrize(("source", "shown"), HOSTILE_BLOCKS)
def test_hostile_html_removed(source: str, shown: str) -> None:
    assert str(render_block(source, {})) == shown


@pytest.mark.parametrize(("source", "shown"), HOSTILE_BLOCKS)
def test_hostile_html_reported_as_changed(source: str, shown: str) -> None:
    assert block_html_changed(source)


def test_allowed_markup_kept() -> None:
    source = ("<h3>Pagamenti</h3><p>Ciao <strong>{{ customer_name }}</strong>,<br>scade il <em>{{ due_date }}</em>.</p>"
              '<ul><li><a href="https://acme.example/aiuto">Aiuto</a></li>'
              '<li><a href="tel:+39800123456">Chiama</a></li>'
              '<li><a href="mailto:aiuto@acme.example">Scrivi</a></li></ul>'
              "<table><tbody><tr><th>Importo</th><td>{{ amount_due }}</td></tr></tbody></table>")

    html = str(render_block(source, {"customer_name": "Maria", "due_date": "31/12/2026", "amount_due": "84,20 €"}))

    assert "<h3>Pagamenti</h3><p>Ciao <strong>Maria</strong>,<br>scade il <em>31/12/2026</em>.</p>" in html
    assert '<a href="https://acme.example/aiuto" rel="noopener noreferrer">Aiuto</a>' in html
    assert '<a href="tel:+39800123456" rel="noopener noreferrer">Chiama</a>' in html
    assert '<a href="mailto:aiuto@acme.example" rel="noopener noreferrer">Scrivi</a>' in html
    assert "<th>Importo</th><td>84,20 €</td>" in html


def test_allowed_markup_not_reported_as_changed() -> None:
    assert not block_html_changed('<p>Ciao <a href="https://acme.example">sito</a> &amp; <em>grazie</em></p><br>')


def test_escaped_fields_stay_escaped() -> None:
    html = str(render_block("<p>{{ customer_name }}</p>", {"customer_name": '<script>alert(1)</script>'}))

    assert html == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
