"""FatturaPA mapping options: pagoPA notice codes, cost keywords, supply address, XSD validation."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from bolletta.platform.i18n.message import render
from bolletta.platform.ingest import xsd
from bolletta.platform.ingest.cost_categories import DEFAULT_COST_RULES, checked_cost_rules, classify_cost
from bolletta.platform.ingest.fatturapa import read_fatturapa
from bolletta.platform.ingest.pagopa import check_digits, normalize_notice_code, notice_code_problem
from bolletta.platform.ingest.reader import read_flow
from bolletta.tenants.config import TenantConfig

RIEPILOGO = "oca_l10n_italy/IT05979361218_ripilogoiva.xml"


def riepilogo_text(samples_dir: Path) -> str:
    return (samples_dir / "fatturapa" / RIEPILOGO).read_text(encoding="utf-8")


def with_pagopa_instalment(text: str, code: str) -> bytes:
    instalment = (
        "<DettaglioPagamento><ModalitaPagamento>MP23</ModalitaPagamento>"
        "<DataScadenzaPagamento>2020-10-20</DataScadenzaPagamento><ImportoPagamento>10.00</ImportoPagamento>"
        f"<CodicePagamento>{code}</CodicePagamento></DettaglioPagamento></DatiPagamento>"
    )
    return text.replace("</DatiPagamento>", instalment).encode()


@pytest.mark.parametrize(
    "code",
    [
        "301000000012345688",  # aux 3: 3010000000123456 mod 93 = 88
        "002000000000000181",  # aux 0: 20000000000001 mod 93 = 81
        "112345678901234567",  # aux 1: no check digits
        "200000000000000103",  # aux 2: 2000000000000001 mod 93 = 3
    ],
)
def test_valid_notice_codes(code: str) -> None:
    assert notice_code_problem(code) is None


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("30100000001234568", "it has 17 digits, not 18"),
        ("3010000000123456889", "it has 19 digits, not 18"),
        ("30100000001234568A", "it contains characters other than digits"),
        ("３01000000012345688", "it contains characters other than digits"),
        ("501000000012345688", "it starts with 5, but a notice code starts with 0, 1, 2 or 3"),
        (
            "301000000012345689",
            "it ends with the check digits 89, but the first 16 digits require 88",
        ),
    ],
)
def test_invalid_notice_codes(code: str, problem: str) -> None:
    found = notice_code_problem(code)

    assert found is not None
    assert render(found, "en") == problem


def test_check_digits_mod_93() -> None:
    assert check_digits("3010000000123456") == "88"
    assert check_digits("0000000000000001") == "01"
    assert check_digits("9999999999999999") == f"{9999999999999999 % 93:02d}"


def test_check_digits_rejects_short_prefix() -> None:
    with pytest.raises(ValueError, match="16 digits"):
        check_digits("123")


def test_printed_notice_code_normalized() -> None:
    assert normalize_notice_code("3010 0000 0012 3456 88") == "301000000012345688"


def test_valid_notice_code_stored(samples_dir: Path) -> None:
    data = with_pagopa_instalment(riepilogo_text(samples_dir), "3010 0000 0012 3456 88")

    [bill], _ = read_fatturapa(data, "pagopa.xml")

    assert bill.instalments[0].method == "MP23"
    assert bill.instalments[0].notice_code == "301000000012345688"
    assert bill.warnings == []


def test_invalid_notice_code_warns(samples_dir: Path) -> None:
    data = with_pagopa_instalment(riepilogo_text(samples_dir), "301000000012345600")

    [bill], rejected = read_fatturapa(data, "pagopa.xml")

    assert rejected == []
    assert bill.instalments[0].notice_code is None
    assert bill.amount_due == Decimal("214.16")
    [warning] = [render(text, "en") for text in bill.warnings]
    assert warning.startswith(
        "DettaglioPagamento 2: CodicePagamento '301000000012345600' is not a valid pagoPA notice code because "
        "it ends with the check digits 00, but the first 16 digits require 88"
    )
    assert "non è un codice avviso pagoPA valido perché finisce con le cifre di controllo 00" in render(
        bill.warnings[0]
    )


def test_notice_code_ignored_for_other_methods(samples_dir: Path) -> None:
    data = with_pagopa_instalment(riepilogo_text(samples_dir), "301000000012345688").replace(b"MP23", b"MP08")

    [bill], _ = read_fatturapa(data, "pagopa.xml")

    assert [item.notice_code for item in bill.instalments] == [None, None]


@pytest.mark.parametrize(
    ("description", "category"),
    [
        ("Spesa per la materia energia", "supply"),
        ("Spesa per la materia gas naturale", "supply"),
        ("Spesa per il trasporto e la gestione del contatore", "transport_meter"),
        ("Spesa per trasporto, gestione contatore e oneri sistema", "transport_meter"),
        ("Spesa per oneri di sistema", "system_charges"),
        ("Imposte", "excise"),
        ("Accisa sull'energia elettrica", "excise"),
        ("Imposta di consumo gas", "excise"),
        ("Addizionale regionale", "excise"),
        ("Ricalcoli", "recalculation"),
        ("Ricalcolo spesa per la materia energia", "recalculation"),
        ("Bonus sociale", "social_bonus"),
        ("Bonus sociale idrico", "social_bonus"),
        ("Canone di abbonamento alla televisione per uso privato", "tv_licence"),
        ("Altre partite", "other"),
        ("Quota variabile acquedotto", "supply"),
        ("Quota fissa acquedotto", "supply"),
        ("Spesa per servizi di acquedotto, fognatura e depurazione", "supply"),
        ("Quota variabile fognatura", "sewerage"),
        ("Canone fognatura", "sewerage"),
        ("Quota variabile depurazione", "wastewater_treatment"),
        ("Componente perequativa UI1", "system_charges"),
        ("Componenti UI2 e UI3", "system_charges"),
    ],
)
def test_default_cost_keywords(description: str, category: str) -> None:
    assert classify_cost(description) == category


def test_water_consumption_counts_acquedotto_only(samples_dir: Path) -> None:
    text = riepilogo_text(samples_dir)
    water = (
        text.replace("Spesa per la materia energia", "Quota variabile acquedotto")
        .replace("Spesa per trasporto, gestione contatore e oneri sistema", "Quota variabile fognatura")
        .replace("Imposte", "Quota variabile depurazione")
        .replace("<UnitaMisura>kWh</UnitaMisura>", "<UnitaMisura>mc</UnitaMisura>")
        .replace("<CodiceTipo>POD</CodiceTipo>", "<CodiceTipo>ALTRO</CodiceTipo>")
    )

    [bill], _ = read_fatturapa(water.encode(), "water.xml")

    assert bill.service == "water"
    assert bill.consumption == Decimal("905.00")
    assert bill.consumption_unit == "m3"
    categories = {cost.category for cost in bill.costs}
    assert {"supply", "sewerage", "wastewater_treatment"} <= categories


def test_tenant_cost_rules_override_default(samples_dir: Path) -> None:
    [bill], _ = read_fatturapa(
        riepilogo_text(samples_dir).encode(), "tenant.xml", cost_rules=[["Altre Partite", "social_bonus"]]
    )

    assert [cost.category for cost in bill.costs if cost.label == "Altre partite"] == ["social_bonus"]
    # The tenant table replaces the default one whole, so energy lines fall in "other".
    assert bill.consumption is None


def test_empty_cost_rules_mean_default() -> None:
    assert checked_cost_rules([]) == DEFAULT_COST_RULES


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([["energia", "energy"]], "category 'energy'"),
        ([["  ", "supply"]], "empty keyword"),
        ([["energia"]], "write it as"),
        (["energia"], "write it as"),
    ],
)
def test_bad_cost_rules_raise(rules: list, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match=message):
        checked_cost_rules(rules)


def test_supply_address_types_configurable(samples_dir: Path) -> None:
    text = riepilogo_text(samples_dir).replace("Ind.POD", "IND_FORN")

    [default], _ = read_fatturapa(text.encode(), "address.xml")
    [configured], _ = read_fatturapa(text.encode(), "address.xml", supply_address_types=["ind.forn"])

    assert default.supply_address is None
    assert configured.supply_address == "VIA TRIESTE, 47 - 21020 BUGUGGIATE (VA)"


def test_bad_supply_address_types_raise() -> None:
    with pytest.raises(ValueError, match="supply_address_types"):
        read_fatturapa(b"<a/>", "x.xml", supply_address_types="Ind.POD")


def test_tenant_config_defaults() -> None:
    config = TenantConfig()

    assert config.supply_address_types == ["Ind.POD", "Ind.PDR"]
    assert config.cost_rules == []


def test_read_flow_passes_mapping(samples_dir: Path) -> None:
    data = riepilogo_text(samples_dir).replace("Ind.POD", "INDFORN").encode()

    reading = read_flow(data, "bill.xml", supply_address_types=["IndForn"], cost_rules=[["imposte", "other"]])

    [bill] = reading.bills
    assert bill.supply_address == "VIA TRIESTE, 47 - 21020 BUGUGGIATE (VA)"
    assert all(cost.category in ("other", "vat") for cost in bill.costs)


def test_read_flow_rejects_bad_cost_rules() -> None:
    with pytest.raises(ValueError, match="category"):
        read_flow(b"<a/>", "bill.xml", cost_rules=[["x", "nonsense"]])


@pytest.fixture
def xsd_dir(samples_dir: Path) -> Path:
    return samples_dir / "fatturapa" / "xsd"


def test_schema_compiled_once_newest(xsd_dir: Path) -> None:
    first = xsd.load_schema(str(xsd_dir.resolve()))
    second = xsd.load_schema(str(xsd_dir.resolve()))

    assert isinstance(first, xsd.FatturaPASchema)
    assert first is second
    assert first.version == "1.2.3"


def test_valid_sample_has_no_schema_warning(samples_dir: Path, xsd_dir: Path) -> None:
    [bill], _ = read_fatturapa(riepilogo_text(samples_dir).encode(), "ok.xml", xsd_dir=xsd_dir)

    assert bill.warnings == []


def test_schema_failure_is_warning(samples_dir: Path, xsd_dir: Path) -> None:
    path = samples_dir / "fatturapa" / "official_samples/v1.2.2/IT01234567890_FPR02.xml"

    [bill], rejected = read_fatturapa(path.read_bytes(), path.name, xsd_dir=xsd_dir)

    assert rejected == []
    schema_warnings = [render(text, "en") for text in bill.warnings if "official FatturaPA schema" in text.msgid]
    assert schema_warnings == [
        "The file does not follow the official FatturaPA schema 1.2.3 at line 16: Element 'ContattiTrasmittente': "
        "This element is not expected. The exchange system accepted it, so it was read anyway."
    ]


def test_many_schema_errors_counted(samples_dir: Path, xsd_dir: Path) -> None:
    path = samples_dir / "fatturapa" / "fatturaelettronica_net/IT02182030391_32.xml"

    bills, _ = read_fatturapa(path.read_bytes(), path.name, xsd_dir=xsd_dir)

    texts = [render(text, "en") for text in bills[0].warnings]
    listed = [text for text in texts if text.startswith("The file does not follow the official FatturaPA schema")]
    assert len(listed) == xsd.MAX_SCHEMA_WARNINGS
    assert any(text.startswith("The file has ") and "more errors" in text for text in texts)


def test_version_1_1_not_schema_checked(samples_dir: Path, xsd_dir: Path) -> None:
    path = samples_dir / "fatturapa" / "fatturaelettronicaphp/IT01234567890_11001.xml"

    [bill], _ = read_fatturapa(path.read_bytes(), path.name, xsd_dir=xsd_dir)

    assert not any("official FatturaPA schema" in text.msgid for text in bill.warnings)


def test_folder_without_xmldsig_warns(samples_dir: Path, xsd_dir: Path, tmp_path: Path) -> None:
    shutil.copy(xsd_dir / "Schema_del_file_xml_FatturaPA_v1.2.2.xsd", tmp_path)

    [bill], _ = read_fatturapa(riepilogo_text(samples_dir).encode(), "ok.xml", xsd_dir=tmp_path)

    [warning] = [render(text, "en") for text in bill.warnings]
    assert warning.startswith("The file was not checked against the official FatturaPA schema: the folder ")
    assert "contains no XML-DSig schema" in warning


def test_missing_folder_warns(samples_dir: Path, tmp_path: Path) -> None:
    [bill], _ = read_fatturapa(riepilogo_text(samples_dir).encode(), "ok.xml", xsd_dir=tmp_path / "absent")

    [warning] = [render(text, "en") for text in bill.warnings]
    assert "does not exist" in warning


def test_older_schema_folder_uses_its_version(xsd_dir: Path, tmp_path: Path) -> None:
    shutil.copy(xsd_dir / "Schema_del_file_xml_FatturaPA_versione_1.2.1.xsd", tmp_path)
    shutil.copy(xsd_dir / "from_pypi_xmlschema_4.3.2" / "xmldsig-core-schema.xsd", tmp_path)

    loaded = xsd.load_schema(str(tmp_path.resolve()))

    assert isinstance(loaded, xsd.FatturaPASchema)
    assert loaded.version == "1.2.1"
