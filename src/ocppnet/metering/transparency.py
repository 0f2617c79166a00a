"""The transparency file: the XML container the S.A.F.E. transparency software opens.

``<values><value transactionId=.. context=..><signedData format="OCMF" encoding="plain">
OCMF|..</signedData><publicKey encoding="hex">..</publicKey></value>..</values>``
(XML_Format.md of SAFE-eV/transparenzsoftware). :func:`write_transparency` writes one from
exact record texts; :func:`read_transparency` reads one (untrusted input: parsed with
defusedxml) into :class:`TransparencyEntry` values, decoding ``plain``/``base64``/``hex``.
"""

from __future__ import annotations

import base64
import binascii
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from ocppnet.metering.errors import OcmfError

__all__ = ["TransparencyEntry", "read_transparency", "write_transparency"]


@dataclass(frozen=True, slots=True)
class TransparencyEntry:
    """One ``<value>``: the signed data as text, its public key (hex) and labels."""

    signed_data: str
    public_key: str | None = None
    transaction_id: str | None = None
    context: str | None = None
    format: str = "OCMF"


def _decode(text: str, encoding: str | None, where: str) -> str:
    encoding = (encoding or "plain").lower()
    try:
        if encoding == "plain":
            return text.strip()
        if encoding == "base64":
            return base64.b64decode("".join(text.split()), validate=True).decode("utf-8")
        if encoding == "hex":
            return bytes.fromhex("".join(text.split())).decode("utf-8")
    except (ValueError, binascii.Error):
        raise OcmfError(f"{where}: not valid {encoding}") from None
    raise OcmfError(f"{where}: unknown encoding {encoding!r} (plain, base64, hex)")


def read_transparency(data: bytes | str, source: str = "transparency file") \
        -> list[TransparencyEntry]:
    """The entries of a transparency file; OcmfError naming ``source`` and the entry."""
    try:
        root = SafeET.fromstring(data)
    except (ET.ParseError, DefusedXmlException) as exc:
        raise OcmfError(f"{source}: not a transparency XML file ({exc})") from None
    if root.tag != "values":
        raise OcmfError(f"{source}: root element is <{root.tag}>, expected <values>")
    entries: list[TransparencyEntry] = []
    for index, value in enumerate(root.findall("value")):
        where = f"{source}: value[{index}]"
        signed = value.find("signedData")
        if signed is None or not (signed.text or "").strip():
            raise OcmfError(f"{where}: no <signedData>")
        key = value.find("publicKey")
        if key is None:
            key = value.find("pulicKey")  # misspelt in the format description itself
        key_text = None
        if key is not None and (key.text or "").strip():
            key_encoding = (key.get("encoding") or "hex").lower()
            key_text = "".join((key.text or "").split()) if key_encoding in ("hex", "base64",
                                                                                "plain") \
                else None
            if key_text is None:
                raise OcmfError(f"{where}.publicKey: unknown encoding {key_encoding!r}")
        entries.append(TransparencyEntry(
            signed_data=_decode(signed.text or "", signed.get("encoding"), f"{where}.signedData"),
            public_key=key_text, transaction_id=value.get("transactionId"),
            context=value.get("context"), format=signed.get("format") or "OCMF"))
    if not entries:
        raise OcmfError(f"{source}: no <value> elements")
    return entries


def write_transparency(entries: Iterable[TransparencyEntry]) -> bytes:
    """A transparency file carrying each record's text as is (XML escaping only)."""
    root = ET.Element("values")
    root.text = "\n  "
    items = list(entries)
    for index, entry in enumerate(items):
        value = ET.SubElement(root, "value")
        if entry.transaction_id is not None:
            value.set("transactionId", entry.transaction_id)
        if entry.context is not None:
            value.set("context", entry.context)
        value.text = "\n    "
        signed = ET.SubElement(value, "signedData", {"format": entry.format,
                                                     "encoding": "plain"})
        signed.text = entry.signed_data
        signed.tail = "\n    " if entry.public_key else "\n  "
        if entry.public_key:
            key = ET.SubElement(value, "publicKey", {"encoding": "hex"})
            key.text = entry.public_key
            key.tail = "\n  "
        value.tail = "\n  " if index < len(items) - 1 else "\n"
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")
