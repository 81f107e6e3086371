"""Signed FatturaPA (.xml.p7m): every public sample, every text shape, and the files to reject."""

from __future__ import annotations

import base64
import io
import zipfile
from pathlib import Path

import pytest
from asn1crypto import cms

from bolletta.platform.i18n.message import render
from bolletta.platform.ingest.p7m import SignedFileRejected, unwrap_p7m
from bolletta.platform.ingest.reader import read_flow

FE_NET = "fatturaelettronica_net/IT02182030391_31"
FPR03 = "oca_l10n_italy/IT01234567890_FPR03"

INTACT = {
    f"{FE_NET}.xml.p7m": ["2"],
    f"{FE_NET}.Base64.xml.p7m": ["2"],
    f"{FE_NET}.Base64.CRLF.xml.p7m": ["2"],
    f"{FPR03}.xml.p7m": ["123", "456"],
    f"{FPR03}.base64.xml.p7m": ["123", "456"],
    "oca_l10n_italy/IT01234567890_FPR04.base64.xml.p7m": ["123", "456"],
    "oca_l10n_italy/IT05979361218_002.xml.p7m": ["FT/2015/0007"],
}
BROKEN = (
    f"{FE_NET}_tampered.xml.p7m",
    f"{FE_NET}_tampered.Base64.xml.p7m",
    "oca_l10n_italy/IT05979361218_fake.xml.p7m",
)


def sample(samples_dir: Path, relative: str) -> bytes:
    return (samples_dir / "fatturapa" / relative).read_bytes()


def signed_data(content: bytes | None, content_type: str = "signed_data") -> bytes:
    """Build a CMS envelope around ``content`` without any signer, as a test stand-in."""
    if content_type != "signed_data":
        return cms.ContentInfo({"content_type": content_type, "content": b"not signed"}).dump()
    encapsulated: dict[str, object] = {"content_type": "data"}
    if content is not None:
        encapsulated["content"] = content
    data = cms.SignedData(
        {"version": "v1", "digest_algorithms": [], "encap_content_info": encapsulated, "signer_infos": []}
    )
    return cms.ContentInfo({"content_type": "signed_data", "content": data}).dump()


def rejection_of(data: bytes, name: str = "bolletta.xml.p7m") -> str:
    with pytest.raises(SignedFileRejected) as caught:
        unwrap_p7m(data, name)
    return render(caught.value.text, "en")


@pytest.mark.parametrize("relative", sorted(INTACT))
def test_intact_sample_unwraps_to_xml(samples_dir: Path, relative: str) -> None:
    content = unwrap_p7m(sample(samples_dir, relative), Path(relative).name)

    assert content.removeprefix(b"\xef\xbb\xbf").startswith(b"<?xml")
    assert b"FatturaElettronicaBody" in content


@pytest.mark.parametrize("relative", sorted(INTACT))
def test_intact_sample_bills_warn_unverified(samples_dir: Path, relative: str) -> None:
    name = Path(relative).name
    reading = read_flow(sample(samples_dir, relative), name)

    assert reading.rejected == []
    assert [bill.document_number for bill in reading.bills] == INTACT[relative]
    for bill in reading.bills:
        assert bill.source_file == name
        warnings = [render(warning, "en") for warning in bill.warnings]
        assert f"The digital signature of {name} was not verified" in " ".join(warnings)


def test_der_sample_uses_indefinite_lengths(samples_dir: Path) -> None:
    data = sample(samples_dir, f"{FE_NET}.xml.p7m")

    # 0x30 0x80: a SEQUENCE of BER indefinite length, which a DER-only parser refuses.
    assert data[:2] == b"\x30\x80"
    assert unwrap_p7m(data, "a.xml.p7m") == unwrap_p7m(sample(samples_dir, f"{FE_NET}.Base64.xml.p7m"), "b")


def test_signed_matches_unsigned_twin(samples_dir: Path) -> None:
    signed = read_flow(sample(samples_dir, f"{FPR03}.xml.p7m"), "IT01234567890_FPR03.xml.p7m")
    plain = read_flow(sample(samples_dir, f"{FPR03}.xml"), "IT01234567890_FPR03.xml")

    assert len(signed.bills) == len(plain.bills) == 2
    for left, right in zip(signed.bills, plain.bills, strict=True):
        assert left.amount_due == right.amount_due
        assert left.customer_name == right.customer_name
        assert left.instalments == right.instalments


@pytest.mark.parametrize(
    "shape",
    ["one_line", "wrapped_64", "wrapped_76_crlf", "pem", "pem_crlf", "trailing_newline"],
)
def test_every_base64_shape(samples_dir: Path, shape: str) -> None:
    der = sample(samples_dir, f"{FPR03}.xml.p7m")
    text = base64.b64encode(der).decode()
    wrapped_64 = "\n".join(text[i : i + 64] for i in range(0, len(text), 64))
    shapes = {
        "one_line": text,
        "wrapped_64": wrapped_64,
        "wrapped_76_crlf": "\r\n".join(text[i : i + 76] for i in range(0, len(text), 76)),
        "pem": f"-----BEGIN PKCS7-----\n{wrapped_64}\n-----END PKCS7-----\n",
        "pem_crlf": f"-----BEGIN CMS-----\r\n{wrapped_64}\r\n-----END CMS-----\r\n".replace("\n", "\r\n"),
        "trailing_newline": text + "\n\n",
    }

    assert unwrap_p7m(shapes[shape].encode(), "x.xml.p7m") == unwrap_p7m(der, "x.xml.p7m")


@pytest.mark.parametrize("relative", BROKEN)
def test_broken_sample_rejected_clearly(samples_dir: Path, relative: str) -> None:
    name = Path(relative).name
    reason = rejection_of(sample(samples_dir, relative), name)

    assert reason.startswith(f"{name} is not a readable signed file")
    assert len(reason) < 300


@pytest.mark.parametrize("relative", BROKEN)
def test_broken_sample_rejected_in_archive(samples_dir: Path, relative: str) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("broken.xml.p7m", sample(samples_dir, relative))
        archive.writestr("good.xml.p7m", sample(samples_dir, f"{FPR03}.xml.p7m"))
    reading = read_flow(buffer.getvalue(), "flow.zip")

    assert [bill.document_number for bill in reading.bills] == ["123", "456"]
    assert [item.file for item in reading.rejected] == ["broken.xml.p7m"]
    # The Italian catalog translates the reason.
    assert render(reading.rejected[0].reason, "it") != render(reading.rejected[0].reason, "en")


def test_truncated_der_rejected(samples_dir: Path) -> None:
    der = sample(samples_dir, f"{FPR03}.xml.p7m")

    for cut in (1, 2, 40, len(der) // 2, len(der) - 1):
        assert "truncated, damaged or missing" in rejection_of(der[:cut])


def test_trailing_garbage_rejected(samples_dir: Path) -> None:
    der = sample(samples_dir, f"{FPR03}.xml.p7m")

    assert "truncated, damaged or missing" in rejection_of(der + b"\x00junk")


def test_invalid_base64_rejected() -> None:
    reason = rejection_of(b"MIIJSQYJKoZIhvcNAQcCoIIJOjCCCTYCAQEx%%%")

    assert reason.startswith("bolletta.xml.p7m is neither a binary (DER) signed file nor valid base64 text")


def test_content_changed_after_signing_rejected(samples_dir: Path) -> None:
    der = sample(samples_dir, f"{FPR03}.xml.p7m")
    changed = der.replace(b"<Numero>123</Numero>", b"<Numero>124</Numero>")
    assert changed != der

    assert "was changed after it was signed" in rejection_of(changed)


def test_text_payload_rejected(samples_dir: Path) -> None:
    data = sample(samples_dir, "python_a38/test.txt.p7m")
    reading = read_flow(data, "test.xml.p7m")

    assert reading.bills == []
    reason = render(reading.rejected[0].reason, "en")
    assert reason.startswith("test.xml.p7m was unwrapped, but the signed content is not an XML document")


def test_non_fatturapa_xml_rejected() -> None:
    data = signed_data(b'<?xml version="1.0"?><Ordine><Numero>1</Numero></Ordine>')
    reading = read_flow(data, "ordine.xml.p7m")

    assert reading.bills == []
    assert [item.file for item in reading.rejected] == ["ordine.xml.p7m"]
    assert "FatturaPA" in render(reading.rejected[0].reason, "en")


def test_doctype_inside_p7m_rejected(samples_dir: Path) -> None:
    data = signed_data(sample(samples_dir, "malicious/entity_expansion.xml"))
    reading = read_flow(data, "xxe.xml.p7m")

    assert reading.bills == []
    reason = render(reading.rejected[0].reason, "en")
    assert "DOCTYPE" in reason
    assert "root:" not in reason


def test_detached_signature_rejected() -> None:
    assert "detached signature" in rejection_of(signed_data(None))


def test_other_cms_type_rejected() -> None:
    assert "truncated, damaged or missing" in rejection_of(signed_data(b"", content_type="data"))


def test_unsigned_envelope_content_read() -> None:
    xml = b'<?xml version="1.0"?><a/>'

    assert unwrap_p7m(signed_data(xml), "a.xml.p7m") == xml
