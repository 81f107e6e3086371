"""Validation of FatturaPA files against the official XSDs, reported as warnings.

The operator points ``BOLLETTA_FATTURAPA_XSD_DIR`` at a folder holding the schemas the Agenzia delle
Entrate publishes; they are not shipped with the product. The folder is searched recursively: the
FatturaPA 1.2 schema with the highest ``version`` attribute is used (1.2.3 accepts everything the
earlier 1.2.x schemas accept), and the file whose target namespace is XML-DSig serves its import.
That import is pointed at the local copy, so compiling never opens the network.

A file that fails the schema is still read, because the exchange system (SdI) already accepted it
and even the official samples break element order: each failure becomes a warning on the bill.
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from bolletta.platform.i18n.message import T_, Text

logger = logging.getLogger(__name__)

FATTURAPA_NAMESPACE = "http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/v1.2"
XMLDSIG_NAMESPACE = "http://www.w3.org/2000/09/xmldsig#"
XSD_NAMESPACE = "http://www.w3.org/2001/XMLSchema"

MAX_SCHEMA_WARNINGS = 5
"""Schema errors listed one by one on a bill; the rest are counted in one more warning."""

MAX_SCHEMA_FILE_BYTES = 2 * 1024 * 1024
"""Larger ``.xsd`` files in the folder are not schemas we use (the official ones are under 100 KB)."""


@dataclass(frozen=True)
class FatturaPASchema:
    """A compiled FatturaPA schema and the version its ``version`` attribute declares."""

    version: str
    schema: etree.XMLSchema
    lock: threading.Lock = field(default_factory=threading.Lock)
    """lxml keeps the last error log on the schema object, so one validation runs at a time."""


@dataclass(frozen=True)
class SchemaUnavailable:
    """The reason the configured folder gave no usable schema, in English for the log and the warning."""

    detail: str


def schema_warnings(root: etree._Element, xsd_dir: str | Path) -> list[Text]:
    """Validate the document of ``root`` against the newest FatturaPA schema in ``xsd_dir``.

    Returns one warning per schema error (at most ``MAX_SCHEMA_WARNINGS``, then a count), or one
    warning saying the check was skipped when the folder contains no usable schema.
    """
    loaded = load_schema(str(Path(xsd_dir).resolve()))
    if isinstance(loaded, SchemaUnavailable):
        return [
            T_(
                "The file was not checked against the official FatturaPA schema: {detail}. Ask the "
                "platform operator to check the folder set in BOLLETTA_FATTURAPA_XSD_DIR.",
                detail=loaded.detail,
            )
        ]

    with loaded.lock:
        valid = loaded.schema.validate(root.getroottree())
        errors = [(error.line, error.message.rstrip(".")) for error in loaded.schema.error_log]
    if valid:
        return []

    warnings: list[Text] = [
        T_(
            "The file does not follow the official FatturaPA schema {version} at line {line}: {detail}. "
            "The exchange system accepted it, so it was read anyway.",
            version=loaded.version,
            line=line,
            detail=message,
        )
        for line, message in errors[:MAX_SCHEMA_WARNINGS]
    ]
    if len(errors) > MAX_SCHEMA_WARNINGS:
        warnings.append(
            T_(
                "The file has {count} more errors against the official FatturaPA schema.",
                count=len(errors) - MAX_SCHEMA_WARNINGS,
            )
        )
    return warnings


@functools.lru_cache(maxsize=4)
def load_schema(xsd_dir: str) -> FatturaPASchema | SchemaUnavailable:
    """Compile the newest FatturaPA schema in ``xsd_dir`` once per process, and return it.

    The result is cached, failures included, so a fixed folder is picked up after a restart.
    """
    folder = Path(xsd_dir)
    if not folder.is_dir():
        return _unavailable(f"the folder {xsd_dir} does not exist")

    newest: tuple[tuple[int, ...], str, etree._ElementTree] | None = None
    xmldsig: Path | None = None
    for path in sorted(folder.rglob("*.xsd")):
        document = _parse_schema_file(path)
        if document is None:
            continue
        root = document.getroot()
        namespace = root.get("targetNamespace")
        if namespace == XMLDSIG_NAMESPACE and xmldsig is None:
            xmldsig = path
        elif namespace == FATTURAPA_NAMESPACE:
            version = root.get("version") or "0"
            key = _version_key(version)
            if newest is None or key > newest[0]:
                newest = (key, version, document)

    if newest is None:
        return _unavailable(f"the folder {xsd_dir} contains no FatturaPA 1.2 schema")
    if xmldsig is None:
        return _unavailable(f"the folder {xsd_dir} contains no XML-DSig schema (xmldsig-core-schema.xsd)")

    _, version, document = newest
    for element in document.getroot().iter(f"{{{XSD_NAMESPACE}}}import"):
        if element.get("namespace") == XMLDSIG_NAMESPACE:
            element.set("schemaLocation", xmldsig.as_uri())
    try:
        schema = etree.XMLSchema(document)
    except etree.XMLSchemaParseError as exc:
        return _unavailable(f"the FatturaPA schema {version} does not compile ({exc})")
    logger.info("FatturaPA schema %s compiled from %s", version, xsd_dir)
    return FatturaPASchema(version=version, schema=schema)


def _parse_schema_file(path: Path) -> etree._ElementTree | None:
    # The XSDs come from the operator, not from uploads. The XML-DSig schema has an internal DTD
    # subset, and this parser reads it without loading anything over the network.
    if path.stat().st_size > MAX_SCHEMA_FILE_BYTES:
        return None
    parser = etree.XMLParser(no_network=True, load_dtd=False, resolve_entities=False)
    try:
        document = etree.parse(str(path), parser)
    except etree.XMLSyntaxError as exc:
        logger.warning("skipping %s in the FatturaPA XSD folder: %s", path, exc)
        return None
    root = document.getroot()
    if root.tag != f"{{{XSD_NAMESPACE}}}schema":
        return None
    return document


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


def _unavailable(detail: str) -> SchemaUnavailable:
    logger.error("FatturaPA schema check is off: %s", detail)
    return SchemaUnavailable(detail=detail)
