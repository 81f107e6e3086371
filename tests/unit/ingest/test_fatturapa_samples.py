"""Every public FatturaPA sample, imported through the archive reader or rejected for its reason.

Each sample is packed alone in a ZIP and read with ``read_flow``, as an upload would be. The
expected key fields were read off each file: ``Numero``, ``Data``, the sum of ``ImportoPagamento``
(else ``ImportoTotaleDocumento``, else the ``DatiRiepilogo`` sum) and the customer's
``CodiceFiscale`` (else its ``IdPaese`` + ``IdCodice``).
"""

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from bolletta.platform.i18n.message import render
from bolletta.platform.ingest.reader import read_flow
from bolletta.platform.ingest.records import FlowReading

# Per bill of each file: document number, issue date, amount due, customer code.
IMPORTED: dict[str, list[tuple[str, str, str, str]]] = {
    "fatturaelettronica_net/IT01234567890_FPA02.xml": [("123", "2014-12-18", "36.08", "09876543210")],
    "fatturaelettronica_net/IT01234567890_FPR02.xml": [("123", "2014-12-18", "36.08", "09876543210")],
    "fatturaelettronica_net/IT02182030391_31.Base64.CRLF.xml.p7m": [("2", "2018-06-08", "122.00", "IT01180680397")],
    "fatturaelettronica_net/IT02182030391_31.Base64.xml.p7m": [("2", "2018-06-08", "122.00", "IT01180680397")],
    "fatturaelettronica_net/IT02182030391_31.xml.p7m": [("2", "2018-06-08", "122.00", "IT01180680397")],
    "fatturaelettronica_net/IT02182030391_32.windows-1252.xml": [
        ("3", "2017-01-27", "119.86", "IT01180680397"),
        ("4", "2017-01-27", "119.86", "IT01180680397"),
    ],
    "fatturaelettronica_net/IT02182030391_32.xml": [
        ("3", "2017-01-27", "119.86", "IT01180680397"),
        ("4", "2017-01-27", "119.86", "IT01180680397"),
    ],
    "fatturaelettronicaphp/ESEMPIO TD24.xml": [("90", "2021-02-24", "3214.29", "01401234567")],
    "fatturaelettronicaphp/IT01234567890_11001.xml": [("123", "2014-12-18", "6.10", "09876543210")],
    "fatturaelettronicaphp/IT01234567890_11001_entity.xml": [("20/20/21G", "2014-12-18", "6.10", "09876543210")],
    "fatturaelettronicaphp/IT01234567890_11001_multi_ritenute.xml": [("123", "2014-12-18", "6.10", "09876543210")],
    "fatturaelettronicaphp/IT01234567890_11001_payment_details.xml": [("123", "2014-12-18", "6.10", "09876543210")],
    "fatturaelettronicaphp/IT01234567890_11001_reso.xml": [("123", "2014-12-18", "6.10", "09876543210")],
    "fatturaelettronicaphp/IT01234567890_11001_slash.xml": [("20/20/21G", "2014-12-18", "6.10", "09876543210")],
    "fatturaelettronicaphp/IT01234567890_11001_spazi.xml": [("123", "2014-12-18", "6.10", "09876543210")],
    "fatturaelettronicaphp/IT01234567890_11002.xml": [("123", "2014-12-18", "6.10", "09876543210")],
    "fatturaelettronicaphp/IT01234567890_21101.xml": [("123", "2014-12-18", "6.10", "09876543210")],
    "fatturaelettronicaphp/IT01234567890_Attachment.xml": [("123", "2014-12-18", "30.50", "09876543210")],
    "fatturaelettronicaphp/IT01234567890_FPR02.xml": [("123", "2014-12-18", "30.50", "09876543210")],
    "fatturaelettronicaphp/IT01234567899_000sq.xml": [("1", "2019-03-19", "2486.02", "01234567894")],
    "invalid/IT01234567890_FPR01.xml": [("123", "2014-12-18", "6.10", "09876543210")],
    "invalid/missing_CodiceDestinatario.xml": [("123", "2014-12-18", "6.10", "09876543210")],
    "invalid/missing_DatiBeniServizi.xml": [("123", "2014-12-18", "6.10", "09876543210")],
    "invalid/missing_DatiGeneraliDocumento_Divisa.xml": [("123", "2014-12-18", "6.10", "09876543210")],
    "invalid/missing_DatiGeneraliDocumento_TipoDocumento.xml": [("123", "2014-12-18", "6.10", "09876543210")],
    "invalid/missing_DatiTrasmissione.xml": [("123", "2014-12-18", "6.10", "09876543210")],
    "invalid/missing_FormatoTrasmissione.xml": [("123", "2014-12-18", "6.10", "09876543210")],
    "invalid/missing_IdTrasmittente.xml": [("123", "2014-12-18", "6.10", "09876543210")],
    "invalid/missing_IdTrasmittente_IdCodice.xml": [("123", "2014-12-18", "6.10", "09876543210")],
    "invalid/missing_IdTrasmittente_IdPaese.xml": [("123", "2014-12-18", "6.10", "09876543210")],
    "invalid/missing_ProgressivoInvio.xml": [("123", "2014-12-18", "6.10", "09876543210")],
    "oca_l10n_italy/IT01234567890_FPR03.base64.xml.p7m": [
        ("123", "2014-12-18", "32.50", "03533590174"),
        ("456", "2014-12-20", "2440.00", "03533590174"),
    ],
    "oca_l10n_italy/IT01234567890_FPR03.xml": [
        ("123", "2014-12-18", "32.50", "03533590174"),
        ("456", "2014-12-20", "2440.00", "03533590174"),
    ],
    "oca_l10n_italy/IT01234567890_FPR03.xml.p7m": [
        ("123", "2014-12-18", "32.50", "03533590174"),
        ("456", "2014-12-20", "2440.00", "03533590174"),
    ],
    "oca_l10n_italy/IT01234567890_FPR04.base64.xml.p7m": [
        ("123", "2014-12-18", "32.50", "03533590174"),
        ("456", "2014-12-20", "2440.00", "03533590174"),
    ],
    "oca_l10n_italy/IT01234567890_FPR04.xml": [("123", "2019-02-15", "30.50", "03533590174")],
    "oca_l10n_italy/IT01234567890_FPR05.xml": [("14311", "2014-12-18", "12.20", "03533590174")],
    "oca_l10n_italy/IT01234567890_FPR06.xml": [("123", "2020-01-09", "18.30", "03533590174")],
    "oca_l10n_italy/IT01234567890_FPR07.xml": [("14331", "2020-01-09", "-24.40", "03533590174")],
    "oca_l10n_italy/IT01234567890_FPR08.xml": [("124", "2020-01-09", "2283.84", "03533590174")],
    "oca_l10n_italy/IT01234567890_FPR09.xml": [("125", "2020-05-15", "800.00", "03533590174")],
    "oca_l10n_italy/IT01234567890_FPR10.xml": [("126", "2020-06-16", "32.50", "03533590174")],
    "oca_l10n_italy/IT01234567890_FPR11.xml": [("14401", "2020-01-09", "1220.00", "03533590174")],
    "oca_l10n_italy/IT01234567890_FPR12.xml": [("14410", "2020-01-09", "1220.00", "03533590174")],
    "oca_l10n_italy/IT01234567890_FPR13.xml": [("FPR 16/20", "2020-09-30", "15912.00", "07973780013")],
    "oca_l10n_italy/IT01234567890_FPR14.xml": [("FPR 17/20", "2020-09-30", "54313.50", "07973780013")],
    "oca_l10n_italy/IT01234567890_FPR15.xml": [("14481", "2020-09-30", "54313.50", "07973780013")],
    "oca_l10n_italy/IT01234567890_FPR16.xml": [("83", "2021-05-17", "120.17", "IT07973780013")],
    "oca_l10n_italy/IT01234567890_x05mX.xml": [("BEXS/2022/0009", "2022-07-21", "661.24", "02780790107")],
    "oca_l10n_italy/IT02098391200_FPR16.xml": [("2023/131703/1", "2023-01-23", "0.00", "03533590174")],
    "oca_l10n_italy/IT02780790107_11004.xml": [("123", "2014-12-18", "30.50", "80213330584")],
    "oca_l10n_italy/IT02780790107_11004_xml_doctor.xml": [("14221", "2014-12-18", "30.50", "80213330584")],
    "oca_l10n_italy/IT02780790107_11005.xml": [("124", "2014-12-18", "30.50", "80213330584")],
    "oca_l10n_italy/IT02780790107_11006.xml": [("125", "2014-12-18", "30.50", "80213330584")],
    "oca_l10n_italy/IT02780790107_11007.xml": [("136", "2015-06-18", "56.50", "80213330584")],
    "oca_l10n_italy/IT02780790107_11008.xml": [("14331", "2020-01-09", "24.40", "IT03533590174")],
    "oca_l10n_italy/IT02780790107_11010.xml": [("14331", "2020-01-09", "24.40", "IT03533590174")],
    "oca_l10n_italy/IT03309970733_DatiTrasportoVAT.xml": [("FT/2015/0009", "2015-02-16", "1431.79", "80213330584")],
    "oca_l10n_italy/IT03309970733_VATG1.xml": [("FT/2015/0009", "2015-02-16", "1431.79", "80213330584")],
    "oca_l10n_italy/IT03309970733_VATG2.xml": [("FT/2015/0009", "2015-02-16", "1431.79", "80213330584")],
    "oca_l10n_italy/IT03638121008_X11111.xml": [("00001", "2012-11-27", "3.66", "09876543210")],
    "oca_l10n_italy/IT05979361218_001.xml": [("FT/2015/0006", "2015-02-16", "54.00", "80213330584")],
    "oca_l10n_italy/IT05979361218_002.xml": [("FT/2015/0007", "2015-02-16", "54.00", "80213330584")],
    "oca_l10n_italy/IT05979361218_002.xml.p7m": [("FT/2015/0007", "2015-02-16", "54.00", "80213330584")],
    "oca_l10n_italy/IT05979361218_003.xml": [("FT/2015/0008", "2015-02-16", "9.00", "80213330584")],
    "oca_l10n_italy/IT05979361218_004.xml": [("FT/2015/0009", "2015-02-16", "1431.79", "80213330584")],
    "oca_l10n_italy/IT05979361218_005.xml": [("FT/2015/0010", "2015-02-16", "1288.61", "80213330584")],
    "oca_l10n_italy/IT05979361218_006.XML": [("FT/2015/0011", "2015-02-17", "1431.79", "80213330584")],
    "oca_l10n_italy/IT05979361218_007.xml": [("FT/2015/0009", "2015-03-16", "9.00", "80213330584")],
    "oca_l10n_italy/IT05979361218_008.xml": [("FT/2015/0012", "2015-06-22", "9.00", "80213330584")],
    "oca_l10n_italy/IT05979361218_009.xml": [("129", "2014-12-18", "5.10", "80213330584")],
    "oca_l10n_italy/IT05979361218_010.xml": [("14171", "2014-12-18", "5.10", "80213330584")],
    "oca_l10n_italy/IT05979361218_011.xml": [("14021", "2015-02-16", "54.00", "80213330584")],
    "oca_l10n_italy/IT05979361218_013.xml": [("A852S1", "2019-05-11", "34.32", "80213330584")],
    "oca_l10n_italy/IT05979361218_014.xml": [("FPR 16/19", "2019-07-02", "2690.57", "03533590174")],
    "oca_l10n_italy/IT05979361218_015.xml": [("14261", "2019-05-11", "34.32", "80213330584")],
    "oca_l10n_italy/IT05979361218_016.xml": [("14461", "2019-05-11", "18.07", "80213330584")],
    "oca_l10n_italy/IT05979361218_017.xml": [("FT/2015/0006", "2015-02-16", "54.00", "80213330584")],
    "oca_l10n_italy/IT05979361218_no_decl.xml": [
        ("14201", "2014-12-18", "32.50", "03533590174"),
        ("14202", "2014-12-20", "2440.00", "03533590174"),
    ],
    "oca_l10n_italy/IT05979361218_q0.xml": [("852S1", "2019-05-11", "16.60", "80213330584")],
    "oca_l10n_italy/IT05979361218_ripilogoiva.xml": [("GR20-900443E", "2020-10-06", "204.16", "03533590174")],
    "oca_l10n_italy/IT06363391001_00003.xml": [("INV/2016/0015", "2016-06-15", "17.08", "06363391001")],
    "oca_l10n_italy/ITBNCMRA80A01D548T_20001.xml": [("001", "2020-10-25", "122.91", "04006460275")],
    "oca_l10n_italy/ITBNCMRA80A01D548T_20005.xml": [("14441", "2020-10-25", "122.91", "04006460275")],
    "oca_l10n_italy/ITNREGCM80H30D612D_20003.xml": [("003", "2020-10-25", "10.20", "04006460275")],
    "oca_l10n_italy/ITNREGCM80H30D612D_20004.xml": [("14031", "2020-10-25", "10.20", "04006460275")],
    "official_samples/v1.2.1/IT01234567890_FPA01.xml": [("123", "2017-01-18", "6.10", "09876543210")],
    "official_samples/v1.2.1/IT01234567890_FPA02.xml": [("123", "2017-01-18", "30.50", "09876543210")],
    "official_samples/v1.2.1/IT01234567890_FPA03.xml": [
        ("12", "2017-01-18", "30.50", "09876543210"),
        ("456", "2017-01-20", "2440.00", "09876543210"),
    ],
    "official_samples/v1.2.1/IT01234567890_FPR01.xml": [("123", "2014-12-18", "6.10", "09876543210")],
    "official_samples/v1.2.1/IT01234567890_FPR02.xml": [("123", "2014-12-18", "30.50", "09876543210")],
    "official_samples/v1.2.1/IT01234567890_FPR03.xml": [
        ("123", "2014-12-18", "32.95", "09876543210"),
        ("456", "2014-12-20", "2440.00", "09876543210"),
    ],
    "official_samples/v1.2.2/IT01234567890_FPA01.xml": [("123", "2017-01-18", "6.10", "09876543210")],
    "official_samples/v1.2.2/IT01234567890_FPA02.xml": [("123", "2017-01-18", "30.50", "09876543210")],
    "official_samples/v1.2.2/IT01234567890_FPA03.xml": [
        ("12", "2017-01-18", "30.50", "09876543210"),
        ("456", "2017-01-20", "2440.00", "09876543210"),
    ],
    "official_samples/v1.2.2/IT01234567890_FPR01.xml": [("123", "2014-12-18", "6.10", "09876543210")],
    "official_samples/v1.2.2/IT01234567890_FPR02.xml": [("123", "2014-12-18", "32.95", "09876543210")],
    "official_samples/v1.2.2/IT01234567890_FPR03.xml": [
        ("123", "2014-12-18", "32.95", "09876543210"),
        ("456", "2014-12-20", "2440.00", "09876543210"),
    ],
    "python_a38/unicode.xml": [("1", "2019-02-14", "81.13", "IT76543210987")],
    "simevo/IT01234567890_FPR04.xml": [("123", "2014-12-18", "6.10", "09876543210")],
}

SIMPLIFIED = " was rejected: it is a simplified invoice (FatturaElettronicaSemplificata)"
DOCTYPE = " was rejected: it contains a DOCTYPE declaration"
BROKEN_SIGNATURE = " is not a readable signed file"
NO_BODY = " was rejected: it has no FatturaElettronicaBody"
NO_NUMBER = ", body 1 was rejected: the document number (DatiGeneraliDocumento/Numero) is missing"

# The reason after the file name, in English, for each sample rejected as a whole.
REJECTED: dict[str, str] = {
    "fatturaelettronica_net/IT01234567890_FSM10.xml": SIMPLIFIED,
    "fatturaelettronica_net/IT02182030391_31_tampered.Base64.xml.p7m": BROKEN_SIGNATURE,
    "fatturaelettronica_net/IT02182030391_31_tampered.xml.p7m": BROKEN_SIGNATURE,
    "fatturaelettronicaphp/semplificata_ESEMPIO FT SEMPL 2.xml": SIMPLIFIED,
    "fatturaelettronicaphp/semplificata_ESEMPIO FT SEMPL.xml": SIMPLIFIED,
    "fatturaelettronicaphp/semplificata_ESEMPIO NDC SEMPL.xml": SIMPLIFIED,
    "invalid/IT01234567890_FPA01_bad_v122.xml": NO_BODY,
    "invalid/malformed.xml": " was rejected: it is not well-formed XML",
    "invalid/missing_CedentePrestatore.xml": " was rejected: the seller (CedentePrestatore) is missing",
    "invalid/missing_CessionarioCommittente.xml": " was rejected: the customer (CessionarioCommittente) is missing",
    "invalid/missing_DatiGenerali.xml": NO_NUMBER,
    "invalid/missing_DatiGeneraliDocumento.xml": NO_NUMBER,
    "invalid/missing_DatiGeneraliDocumento_Data.xml": (
        ", body 1 was rejected: the issue date (DatiGeneraliDocumento/Data) is missing"
    ),
    "invalid/missing_DatiGeneraliDocumento_Numero.xml": NO_NUMBER,
    "invalid/missing_FatturaElettronicaBody.xml": NO_BODY,
    "invalid/missing_FatturaElettronicaHeader.xml": " was rejected: it has no FatturaElettronicaHeader",
    "malicious/billion_laughs.xml": DOCTYPE,
    "malicious/embedded_schema.xml": DOCTYPE,
    "malicious/entity_expansion.xml": DOCTYPE,
    "malicious/jumbo_Causale.xml": (
        ", body 1 was rejected: it contains more than 1000000 characters of text outside attachments"
    ),
    "malicious/jumbo_FatturaElettronicaHeader.xml": (
        " was rejected: element /p:FatturaElettronica/FatturaElettronicaHeader/Jumbo contains more than"
    ),
    "malicious/quadratic_blowup.xml": DOCTYPE,
    "malicious/recursive_entity.xml": DOCTYPE,
    "malicious/small_jumbo.xml": DOCTYPE,
    "oca_l10n_italy/IT02780790107_11009.xml": SIMPLIFIED,
    "oca_l10n_italy/IT05979361218_fake.xml.p7m": BROKEN_SIGNATURE,
}

# Samples that are no FatturaPA file at all: the reader lists them as ignored.
IGNORED = {"oca_l10n_italy/test.png", "python_a38/test.txt.p7m"}
# NOTE: test.txt.p7m is a signed text file. A name ending in .p7m but not .xml.p7m is not routed to
# the signed-file reader, so it is ignored instead of rejected as "not FatturaPA".

OLD_VERSION_1_1 = {
    "fatturaelettronicaphp/IT01234567890_11001.xml",
    "fatturaelettronicaphp/IT01234567890_11001_entity.xml",
    "fatturaelettronicaphp/IT01234567890_11001_multi_ritenute.xml",
    "fatturaelettronicaphp/IT01234567890_11001_payment_details.xml",
    "fatturaelettronicaphp/IT01234567890_11001_reso.xml",
    "fatturaelettronicaphp/IT01234567890_11001_slash.xml",
    "fatturaelettronicaphp/IT01234567890_11001_spazi.xml",
    "fatturaelettronicaphp/IT01234567890_11002.xml",
    "fatturaelettronicaphp/IT01234567890_21101.xml",
    "oca_l10n_italy/IT03638121008_X11111.xml",
    "oca_l10n_italy/IT05979361218_002.xml.p7m",
}

# Samples without DatiPagamento and ImportoTotaleDocumento: the amount due is the DatiRiepilogo sum.
AMOUNT_FROM_VAT_SUMMARY = {
    "oca_l10n_italy/IT01234567890_FPR04.xml",
    "oca_l10n_italy/IT01234567890_FPR05.xml",
    "oca_l10n_italy/IT01234567890_FPR06.xml",
    "oca_l10n_italy/IT01234567890_FPR07.xml",
    "oca_l10n_italy/IT02780790107_11006.xml",
    "oca_l10n_italy/IT02780790107_11008.xml",
    "oca_l10n_italy/IT02780790107_11010.xml",
    "oca_l10n_italy/IT03309970733_DatiTrasportoVAT.xml",
    "oca_l10n_italy/IT03309970733_VATG1.xml",
    "oca_l10n_italy/IT03309970733_VATG2.xml",
    "oca_l10n_italy/IT05979361218_003.xml",
    "oca_l10n_italy/IT05979361218_004.xml",
    "oca_l10n_italy/IT05979361218_006.XML",
    "oca_l10n_italy/IT05979361218_008.xml",
}


def read_alone_in_zip(samples_dir: Path, relative: str) -> FlowReading:
    path = samples_dir / "fatturapa" / relative
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(path.name, path.read_bytes())
    return read_flow(buffer.getvalue(), "flow.zip")


def english(reading: FlowReading) -> list[str]:
    return [render(warning, "en") for bill in reading.bills for warning in bill.warnings]


def test_every_sample_listed(samples_dir: Path) -> None:
    root = samples_dir / "fatturapa"
    found = {
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and path.parts[len(root.parts)] != "xsd" and path.name != "SOURCES.md"
    }
    listed = set(IMPORTED) | set(REJECTED) | IGNORED

    assert found - listed == set()
    assert listed - found == set()
    assert set(IMPORTED) & set(REJECTED) == set()


@pytest.mark.parametrize("relative", sorted(IMPORTED))
def test_sample_imported_key_fields(samples_dir: Path, relative: str) -> None:
    reading = read_alone_in_zip(samples_dir, relative)

    assert reading.rejected == []
    assert len(reading.bills) == len(IMPORTED[relative])
    for bill, (number, issued, amount, customer_code) in zip(reading.bills, IMPORTED[relative], strict=True):
        assert bill.document_number == number
        assert bill.issue_date == date.fromisoformat(issued)
        assert bill.amount_due == Decimal(amount)
        assert bill.customer_code == customer_code


# The raw bytes of these are the XML text, so a missing element is missing from the bytes too.
PLAIN_XML = sorted(relative for relative in IMPORTED if relative.lower().endswith(".xml"))


@pytest.mark.parametrize("relative", PLAIN_XML)
def test_sample_invents_no_supply_data(samples_dir: Path, relative: str) -> None:
    raw = (samples_dir / "fatturapa" / relative).read_bytes()
    reading = read_alone_in_zip(samples_dir, relative)

    for bill in reading.bills:
        if b">POD<" not in raw:
            assert bill.pod is None
        if b">PDR<" not in raw:
            assert bill.pdr is None
        if b"Quantita>" not in raw:
            assert bill.consumption is None
        for cost in bill.costs:
            if b"Quantita>" not in raw:
                assert cost.quantity is None


@pytest.mark.parametrize("relative", sorted(REJECTED))
def test_sample_rejected_with_reason(samples_dir: Path, relative: str) -> None:
    reading = read_alone_in_zip(samples_dir, relative)

    assert reading.bills == []
    assert len(reading.rejected) == 1
    name = Path(relative).name
    assert render(reading.rejected[0].reason, "en").startswith(name + REJECTED[relative])


@pytest.mark.parametrize("relative", sorted(IGNORED))
def test_non_invoice_sample_ignored(samples_dir: Path, relative: str) -> None:
    reading = read_alone_in_zip(samples_dir, relative)

    assert reading.bills == []
    assert [entry.file for entry in reading.ignored] == [Path(relative).name]


@pytest.mark.parametrize("relative", sorted(OLD_VERSION_1_1))
def test_version_1_1_sample_warns(samples_dir: Path, relative: str) -> None:
    reading = read_alone_in_zip(samples_dir, relative)

    assert reading.bills
    for bill in reading.bills:
        assert any("old FatturaPA 1.1 namespace" in render(warning, "en") for warning in bill.warnings)


@pytest.mark.parametrize("relative", sorted(AMOUNT_FROM_VAT_SUMMARY))
def test_missing_totals_use_vat_summary(samples_dir: Path, relative: str) -> None:
    reading = read_alone_in_zip(samples_dir, relative)

    [bill] = reading.bills
    assert bill.due_date is None
    assert bill.instalments == []
    assert any("is the sum of the taxable amounts and VAT in DatiRiepilogo" in text for text in english(reading))


def test_electricity_sample_supply_fields(samples_dir: Path) -> None:
    reading = read_alone_in_zip(samples_dir, "oca_l10n_italy/IT05979361218_ripilogoiva.xml")

    [bill] = reading.bills
    assert bill.pod == "IT001E14607435"
    assert bill.pdr is None
    assert bill.consumption == Decimal("905.00")
    assert bill.consumption_unit == "kWh"
    assert bill.service == "electricity"
    assert bill.supply_address == "VIA TRIESTE, 47 - 21020 BUGUGGIATE (VA)"


def test_pdf_attachments_sample(samples_dir: Path) -> None:
    reading = read_alone_in_zip(samples_dir, "oca_l10n_italy/IT06363391001_00003.xml")

    [bill] = reading.bills
    assert [attachment.name for attachment in bill.attachments] == ["test1.pdf", "test2.pdf"]


def test_png_attachment_sample_skipped(samples_dir: Path) -> None:
    reading = read_alone_in_zip(samples_dir, "oca_l10n_italy/IT02780790107_11005.xml")

    [bill] = reading.bills
    assert bill.attachments == []
    assert any("is neither a PDF nor a ZIP of PDFs" in text for text in english(reading))


def test_instalments_sample_ordered(samples_dir: Path) -> None:
    reading = read_alone_in_zip(samples_dir, "oca_l10n_italy/IT02780790107_11004.xml")

    [bill] = reading.bills
    assert len(bill.instalments) == 3
    due_dates = [item.due_date for item in bill.instalments]
    assert due_dates == sorted(due_dates)
    assert bill.due_date == due_dates[0]


def test_direct_debit_sample_detected(samples_dir: Path) -> None:
    reading = read_alone_in_zip(samples_dir, "official_samples/v1.2.2/IT01234567890_FPR03.xml")

    first, second = reading.bills
    assert first.payment_method == "MP01"
    assert first.direct_debit is False
    assert second.payment_method == "MP19"
    assert second.direct_debit is True
