"""``first_children`` and ``child_elements`` find, for every local name, the elements ``find`` and ``children`` find."""

from __future__ import annotations

from lxml import etree

from bolletta.platform.ingest.fatturapa_lines import read_lines
from bolletta.platform.ingest.safe_xml import child_elements, children, find, first_children, stripped_text, text

XML = b"""<p:Linea xmlns:p="urn:a" xmlns:q="urn:b">
  <!-- a comment -->
  <?pi before?>
  <q:Descrizione> first </q:Descrizione>
  <Descrizione>second</Descrizione>
  <Quantita>   </Quantita>
  <p:PrezzoTotale>10.00</p:PrezzoTotale>
  <Vuoto/>
</p:Linea>"""


def test_first_children_matches_find() -> None:
    line = etree.fromstring(XML)

    fields = first_children(line)

    assert set(fields) == {"Descrizione", "Quantita", "PrezzoTotale", "Vuoto"}
    for name, element in fields.items():
        assert element is find(line, name)
        assert stripped_text(element) == text(line, name)
    assert stripped_text(fields["Descrizione"]) == "first"
    assert stripped_text(fields["Quantita"]) is None
    assert stripped_text(fields["Vuoto"]) is None


def test_first_children_of_missing_element() -> None:
    assert first_children(None) == {}
    assert stripped_text(None) is None


def test_child_elements_match_children() -> None:
    line = etree.fromstring(XML)

    groups = child_elements(line)

    assert set(groups) == {"Descrizione", "Quantita", "PrezzoTotale", "Vuoto"}
    for name, elements in groups.items():
        assert elements == list(children(line, name))
    assert [stripped_text(element) for element in groups["Descrizione"]] == ["first", "second"]
    assert child_elements(None) == {}


LINE = b"""<DatiBeniServizi><DettaglioLinee>
  <Descrizione>Quota fissa vendita</Descrizione><PrezzoTotale>1.00</PrezzoTotale>
</DettaglioLinee></DatiBeniServizi>"""


def test_line_category_follows_rule_table() -> None:
    lines = etree.fromstring(LINE)

    first = read_lines(lines, cost_rules=(("quota fissa", "supply"),))
    second = read_lines(lines, cost_rules=(("quota fissa", "excise"),))

    assert first.costs[0].category == "supply"
    assert second.costs[0].category == "excise"
