"""Unwrapping of signed FatturaPA files (``.xml.p7m``, CAdES): the signed XML out of its CMS envelope.

The envelope is parsed with asn1crypto, which reads BER indefinite lengths and content split into
many OCTET STRING chunks. The file may be DER, or base64 text on one line or wrapped, with CRLF
line ends and with or without PEM armour. The first byte distinguishes them, because DER starts
with the SEQUENCE tag ``0x30``, which is not a base64 character.

The signer's certificate chain is not checked, so every bill read this way carries the warning
:data:`SIGNATURE_NOT_VERIFIED`. The content is checked against the ``message-digest`` attribute
the signer signed, so content changed after signing is rejected.
"""

from __future__ import annotations

import binascii
import hashlib
import re

from asn1crypto import cms

from bolletta.platform.i18n.message import T_, Text
from bolletta.platform.ingest.archive import looks_like_xml
from bolletta.platform.ingest.errors import FlowFileError

DER_SEQUENCE_TAG = 0x30
_PEM_ARMOUR = re.compile(rb"-----(BEGIN|END) [A-Z0-9 ]+-----")
_WHITESPACE = re.compile(rb"\s+")

SIGNATURE_NOT_VERIFIED = T_(
    "The digital signature of {file} was not verified: the bill was read from the signed file without "
    "checking the signer's certificate."
)


class SignedFileRejected(FlowFileError):
    """Raised when a ``.p7m`` file cannot be unwrapped, or does not wrap an XML document."""


def unwrap_p7m(data: bytes, filename: str) -> bytes:
    """Return the signed content of a CAdES file given as DER or as base64 text.

    Raises:
        SignedFileRejected: the file is not base64 or DER, is not a CMS signed-data envelope (a
            truncated, tampered or fake file), carries no content (a detached signature), its
            content does not match the signed digest, or the content is not XML.
    """
    der = _to_der(data, filename)
    content = _signed_content(der, filename)
    if not looks_like_xml(content[:1024]):
        raise SignedFileRejected(
            T_(
                "{file} was unwrapped, but the signed content is not an XML document, so it is not a "
                "FatturaPA file. Sign the FatturaPA XML file and send it again.",
                file=filename,
            )
        )
    return content


def _to_der(data: bytes, filename: str) -> bytes:
    if data[:1] == bytes([DER_SEQUENCE_TAG]):
        return data
    text = _WHITESPACE.sub(b"", _PEM_ARMOUR.sub(b"", data))
    try:
        der = binascii.a2b_base64(text, strict_mode=True)
    except binascii.Error as exc:
        raise SignedFileRejected(
            T_(
                "{file} is neither a binary (DER) signed file nor valid base64 text ({detail}). "
                "Send the .xml.p7m file exactly as it was signed.",
                file=filename,
                detail=str(exc),
            )
        ) from exc
    if der[:1] != bytes([DER_SEQUENCE_TAG]):
        raise _not_signed_data(filename)
    return der


def _signed_content(der: bytes, filename: str) -> bytes:
    """Parse the CMS envelope and return its encapsulated content, checked against the signed digest."""
    try:
        info = cms.ContentInfo.load(der, strict=True)
        if info["content_type"].native != "signed_data":
            raise _not_signed_data(filename)
        signed_data = info["content"]
        encapsulated = signed_data["encap_content_info"]
        content = encapsulated["content"].native
        signer_infos = list(signed_data["signer_infos"])
        _check_digests(signer_infos, content, filename)
    except (ValueError, TypeError, KeyError) as exc:
        # asn1crypto parses lazily and raises ValueError (sometimes TypeError or KeyError) on the
        # first malformed part it reaches, so every access above is inside this block.
        raise _not_signed_data(filename) from exc
    if not content:
        raise SignedFileRejected(
            T_(
                "{file} contains a signature without the signed document (a detached signature). "
                "Send the .xml.p7m file that contains the FatturaPA XML.",
                file=filename,
            )
        )
    return bytes(content)


def _check_digests(signer_infos: list[cms.SignerInfo], content: bytes | None, filename: str) -> None:
    if not content:
        return
    for signer in signer_infos:
        expected = _signed_message_digest(signer)
        if expected is None:
            continue
        algorithm = signer["digest_algorithm"]["algorithm"].native
        if algorithm not in hashlib.algorithms_available:
            continue
        if hashlib.new(algorithm, content).digest() != expected:
            raise SignedFileRejected(
                T_(
                    "{file} was changed after it was signed: its content does not match the digest in the "
                    "signature. Ask the utility to send the file again as it was signed.",
                    file=filename,
                )
            )


def _signed_message_digest(signer: cms.SignerInfo) -> bytes | None:
    attributes = signer["signed_attrs"]
    if not attributes:
        return None
    for attribute in attributes:
        if attribute["type"].native == "message_digest":
            value = attribute["values"][0].native
            return bytes(value) if isinstance(value, bytes) else None
    return None


def _not_signed_data(filename: str) -> SignedFileRejected:
    text: Text = T_(
        "{file} is not a readable signed file: its CMS (PKCS#7) envelope is truncated, damaged or missing. "
        "Send the .xml.p7m file again exactly as it was signed.",
        file=filename,
    )
    return SignedFileRejected(text)
