"""An OCMF record ``OCMF|{payload}|{signature}``: parse keeping the exact bytes, build, verify.

:func:`parse_record` never re-serializes: :attr:`OcmfRecord.payload_text` is the substring
between the separators, byte for byte, and is what a signature is checked over; the parsed
:class:`~ocppnet.metering.payload.Payload` is only for reading values. :func:`sign_payload`
builds and signs a payload of our own (a simulated meter). :func:`verify_record` returns a
:class:`Verdict` with the reason in words; it does not raise for a bad signature.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from ocppnet.metering.algorithms import (
    MeterKey,
    MeterPublicKey,
    canonical_algorithm,
    curve_of_algorithm,
    parse_public_key,
)
from ocppnet.metering.errors import OcmfError
from ocppnet.metering.jsontext import dumps, loads
from ocppnet.metering.payload import Payload, payload_from_json, payload_to_json

__all__ = [
    "OcmfRecord",
    "SignatureSection",
    "Verdict",
    "parse_record",
    "sign_payload",
    "verify_record",
]

HEADER = "OCMF"
_DER = "application/x-der"
_SIGNATURE_KEYS = frozenset({"SA", "SE", "SM", "SD"})


@dataclass(frozen=True, slots=True)
class SignatureSection:
    """The signature section: SA, SE, SM, SD and any extension keys (kept, unprotected)."""

    data: str                       # SD
    algorithm: str | None = None    # SA (None: the default, ECDSA-secp256r1-SHA256)
    encoding: str | None = None     # SE: hex (default) or base64
    mime: str | None = None         # SM: application/x-der (default)
    extra: dict[str, Any] = field(default_factory=dict)

    def signature_bytes(self) -> bytes:
        """SD decoded per SE; OcmfError when it does not decode."""
        encoding = self.encoding or "hex"
        try:
            if encoding == "hex":
                return bytes.fromhex(self.data)
            if encoding == "base64":
                return base64.b64decode(self.data, validate=True)
        except (ValueError, binascii.Error):
            raise OcmfError(f"signature.SD: not valid {encoding}") from None
        raise OcmfError(f"signature.SE: unknown signature encoding {encoding!r}")


@dataclass(frozen=True, slots=True)
class OcmfRecord:
    """One record exactly as received, with its sections parsed."""

    text: str
    payload_text: str
    signature_text: str
    payload: Payload
    signature: SignatureSection
    issues: tuple[str, ...] = ()
    appended_key: str | None = None
    """A public key appended as a fourth section (QR codes for the transparency software)."""

    @property
    def payload_bytes(self) -> bytes:
        """What the signature covers: the payload section's UTF-8 bytes, untouched."""
        return self.payload_text.encode("utf-8")


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of checking one record's signature."""

    valid: bool
    reason: str


def _signature(obj: Any) -> SignatureSection:
    if not isinstance(obj, dict):
        raise OcmfError("signature: expected a JSON object")
    values: dict[str, str | None] = {}
    for key in ("SA", "SE", "SM", "SD"):
        value = obj.get(key)
        if value is not None and not isinstance(value, str):
            raise OcmfError(f"signature.{key}: expected a string")
        values[key] = value
    if values["SD"] is None:
        raise OcmfError("signature.SD: missing (mandatory)")
    return SignatureSection(values["SD"] or "", values["SA"], values["SE"], values["SM"],
                            {k: v for k, v in obj.items() if k not in _SIGNATURE_KEYS})


def parse_record(text: str) -> OcmfRecord:
    """Parse one OCMF record (plain, or hex-encoded as some meters send it)."""
    text = text.strip()
    if not text.startswith(HEADER + "|"):
        compact = "".join(text.split())
        try:
            decoded = bytes.fromhex(compact).decode("utf-8")
        except ValueError:
            raise OcmfError("header: the record does not start with 'OCMF|'") from None
        if not decoded.startswith(HEADER + "|"):
            raise OcmfError("header: the record does not start with 'OCMF|'")
        text = decoded
    parts = text.split("|")
    if len(parts) not in (3, 4):
        raise OcmfError(f"record: {len(parts)} sections separated by '|', expected "
                        "OCMF|payload|signature")
    payload_text, signature_text = parts[1], parts[2]
    payload, issues = payload_from_json(loads(payload_text, "payload"))
    signature = _signature(loads(signature_text, "signature"))
    appended = ("".join(parts[3].split()) or None) if len(parts) == 4 else None
    for key in signature.extra:
        if key[:1] not in "UVWXYZABCDEF":
            issues.append(f"signature.{key}: not a field of OCMF nor an extension key")
    return OcmfRecord(text, payload_text, signature_text, payload, signature, tuple(issues),
                      appended)


def sign_payload(payload: Payload, key: MeterKey, *, encoding: str = "hex") -> OcmfRecord:
    """Write ``payload`` compactly, sign it with the meter key and return the record."""
    payload_text = dumps(payload_to_json(payload))
    if "|" in payload_text:
        raise OcmfError("payload: '|' is not allowed inside an OCMF section")
    signature = key.sign(payload_text.encode("utf-8"))
    section: dict[str, str] = {"SA": key.algorithm}
    if encoding == "base64":
        section["SE"] = "base64"
        section["SD"] = base64.b64encode(signature).decode("ascii")
    elif encoding == "hex":
        section["SD"] = signature.hex().upper()
    else:
        raise OcmfError(f"signature.SE: unknown signature encoding {encoding!r}")
    return parse_record(f"{HEADER}|{payload_text}|{dumps(section)}")


def verify_record(record: OcmfRecord, key: MeterPublicKey | None) -> Verdict:
    """Check the record's signature over its exact payload bytes with ``key``.

    Without a key, a key appended to the record is used, and the reason says so: such a
    key proves only that the record is intact, not who signed it.
    """
    note = ""
    if key is None:
        if record.appended_key is None:
            return Verdict(False, "no public key to check the signature with")
        try:
            key = parse_public_key(record.appended_key, "appended public key")
        except OcmfError as exc:
            return Verdict(False, str(exc))
        note = " (with the key appended to the record, not one known out of band)"
    try:
        curve = curve_of_algorithm(record.signature.algorithm)
        if (record.signature.mime or _DER) != _DER:
            raise OcmfError(f"signature.SM: {record.signature.mime!r} is not supported "
                            f"(only {_DER})")
        signature = record.signature.signature_bytes()
    except OcmfError as exc:
        return Verdict(False, str(exc))
    algorithm = canonical_algorithm(record.signature.algorithm)
    if key.curve != curve:
        return Verdict(False, f"the public key is on {key.curve}, the record says {algorithm}")
    try:
        ok = key.verify(signature, record.payload_bytes)
    except ValueError:
        return Verdict(False, "signature.SD: not a DER ECDSA signature")
    if not ok:
        return Verdict(False, "signature does not match the payload "
                              "(altered, or signed with another key)")
    return Verdict(True, f"signature valid ({algorithm}){note}")
