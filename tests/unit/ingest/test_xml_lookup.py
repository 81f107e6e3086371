"""``first_children`` finds, for every local name, the element ``find`` finds."""

from __future__ import annotations

from lxml import etree

from bolletta.platform.ingest.safe_xml import find, first_children, stripped_text, text

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
