"""The demo flow built once per module, unpacked into parsed FatturaPA files and the contacts CSV."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from bolletta.platform.demo.flow import DemoFlow, build_demo_flow

ISSUE_DATE = date(2026, 11, 10)
XSD_NAME = "Schema_del_file_xml_FatturaPA_v1.2.2.xsd"
XMLDSIG_NAME = "xmldsig-core-schema.xsd"
XSD_NS = "http://www.w3.org/2001/XMLSchema"


@dataclass(frozen=True)
class InvoiceXml:
    """One FatturaPA entry of the archive, parsed."""

    name: str
    root: etree._Element

    @property
    def bodies(self) -> list[etree._Element]:
        return self.root.findall("FatturaElettronicaBody")


def text(element: etree._Element, path: str) -> str:
    """Return the text at ``path`` below ``element``, failing the test when it is missing."""
    found = element.find(path)
    assert found is not None, f"{path} missing"
    assert found.text is not None, f"{path} empty"
    return found.text


def amount(element: etree._Element, path: str) -> Decimal:
    return Decimal(text(element, path))


def unpack(flow: DemoFlow) -> tuple[list[InvoiceXml], bytes]:
    """Return the parsed XML entries in archive order and the raw contacts CSV."""
    with zipfile.ZipFile(io.BytesIO(flow.archive)) as archive:
        invoices = [
            InvoiceXml(name, etree.fromstring(archive.read(name)))
            for name in archive.namelist()
            if name.endswith(".xml")
        ]
        contacts = archive.read("contacts.csv")
    return invoices, contacts


@pytest.fixture(scope="module")
def demo_flow() -> DemoFlow:
    return build_demo_flow(seed=2026, issue_date=ISSUE_DATE)


@pytest.fixture(scope="module")
def invoices(demo_flow: DemoFlow) -> list[InvoiceXml]:
    return unpack(demo_flow)[0]


@pytest.fixture(scope="module")
def bodies(invoices: list[InvoiceXml]) -> list[etree._Element]:
    return [body for invoice in invoices for body in invoice.bodies]


@pytest.fixture(scope="module")
def contacts_csv(demo_flow: DemoFlow) -> bytes:
    return unpack(demo_flow)[1]


@pytest.fixture(scope="session")
def fatturapa_schema(samples_dir: Path) -> etree.XMLSchema:
    """The official FatturaPA 1.2.2 schema, with its XML-DSig import pointed at the local copy."""
    xsd_dir = samples_dir / "fatturapa" / "xsd"
    xsd_path = xsd_dir / XSD_NAME
    assert xsd_path.is_file(), f"{xsd_path} not found"
    xmldsig_copies = sorted(xsd_dir.rglob(XMLDSIG_NAME))
    assert xmldsig_copies, f"no {XMLDSIG_NAME} below {xsd_dir}"

    document = etree.parse(str(xsd_path))
    # The official schema imports XML-DSig without a location; without one lxml cannot resolve it.
    xsd_import = document.getroot().find(f"{{{XSD_NS}}}import")
    assert xsd_import is not None
    xsd_import.set("schemaLocation", xmldsig_copies[0].as_uri())
    return etree.XMLSchema(document)
