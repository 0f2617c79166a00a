"""Sign and verify OCPP payloads end to end (docs/signatures.md is the normative spec).

Signed bytes = JCS of ``{"@context": "<version>/<Action><Request|Response>", "payload": <payload
without "signatures">, "signature": <signature object without "value">}``. Every signature covers
the payload *without* the signatures array, so countersignatures are independent of each other
and of their order. Because "@context" < "payload" < "signature", the canonical bytes are spliced
from the payload's canonical form, computed once per message however many signatures it has.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from ocppnet.rpc.timestamps import format_timestamp as rfc3339
from ocppnet.rpc.timestamps import parse_timestamp
from ocppnet.security.canonical import CanonicalizationError, canonicalize
from ocppnet.security.keys import ALGORITHMS, KeyMaterialError, KeyPair, ecdsa_hash
from ocppnet.security.replay import DEFAULT_WINDOW, ReplayCache, window_problem
from ocppnet.security.trust import Refusal, TrustStore

__all__ = [
    "ENCODING_METHOD",
    "SIGNING_METHOD",
    "SignatureVerdict",
    "VerdictStatus",
    "canonical_payload",
    "context_of",
    "format_timestamp",
    "sign",
    "signed_bytes",
    "verify",
]

SIGNING_METHOD = "json"
ENCODING_METHOD = "base64"
_REQUIRED = ("keyId", "value", "algorithm", "signingMethod", "encodingMethod", "timestamp")
_OPTIONAL_TEXT = ("name", "description")
_ECDSA = {alg: ec.ECDSA(ecdsa_hash(alg)) for alg in ALGORITHMS if alg != "ed25519"}
_ECDSA_PREHASHED = {
    alg: ec.ECDSA(Prehashed(ecdsa_hash(alg))) for alg in ALGORITHMS if alg != "ed25519"
}
_HASH_NAME = {alg: ecdsa_hash(alg).name for alg in _ECDSA}


class VerdictStatus(StrEnum):
    VALID = "valid"
    MALFORMED = "malformed"
    UNKNOWN_ALGORITHM = "unknown_algorithm"
    UNKNOWN_KEY = "unknown_key"
    UNTRUSTED_KEY = "untrusted_key"
    EXPIRED = "expired"
    FUTURE = "future"
    INVALID = "invalid"
    REPLAYED = "replayed"


@dataclass(frozen=True, slots=True)
class SignatureVerdict:
    """What the verifier concluded about ``signatures[index]``; ``reason`` is for humans/logs."""

    index: int
    key_id: str | None
    status: VerdictStatus
    reason: str
    name: str | None = None
    subject: str | None = None  # CN of the signer's certificate (roles may name it)

    @property
    def valid(self) -> bool:
        return self.status is VerdictStatus.VALID


def context_of(version: str, action: str, kind: str) -> str:
    """``"2.0.1/SetChargingProfileRequest"``; ``version`` may carry the subprotocol's "ocpp"."""
    if kind not in ("request", "response"):
        raise ValueError(f"kind must be 'request' or 'response', not {kind!r}")
    suffix = "Request" if kind == "request" else "Response"
    return f"{version.removeprefix('ocpp')}/{action}{suffix}"


def format_timestamp(now: datetime) -> str:
    """RFC 3339 UTC with milliseconds, e.g. ``2025-01-01T12:00:00.000Z``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return rfc3339(now)


def canonical_payload(payload: Mapping[str, Any]) -> bytes:
    """JCS of the payload without its ``signatures`` member (what every signature covers)."""
    if "signatures" in payload:
        payload = dict(payload)
        del payload["signatures"]
    return canonicalize(payload)


def signed_bytes(context: str, payload_jcs: bytes, signature: Mapping[str, Any]) -> bytes:
    """The exact bytes a signature covers, spliced from the canonical payload."""
    meta = {k: v for k, v in signature.items() if k != "value"}
    return b"".join((
        b'{"@context":', orjson.dumps(context), b',"payload":', payload_jcs,
        b',"signature":', canonicalize(meta), b"}",
    ))


def sign(
    payload: Mapping[str, Any],
    *,
    action: str,
    kind: str,
    version: str,
    key: KeyPair,
    now: datetime,
    name: str | None = None,
    description: str | None = None,
    payload_jcs: bytes | None = None,
) -> dict[str, Any]:
    """A new payload with one more signature appended to ``signatures`` (input unchanged).

    ``payload_jcs`` lets a caller that signs with several keys canonicalize once.
    Raises CanonicalizationError when the payload has no canonical form.
    """
    meta: dict[str, Any] = {
        "keyId": key.key_id,
        "algorithm": key.algorithm,
        "signingMethod": SIGNING_METHOD,
        "encodingMethod": ENCODING_METHOD,
        "timestamp": format_timestamp(now),
    }
    if key.chain:
        meta["x5c"] = list(key.chain)
    if name is not None:
        meta["name"] = name
    if description is not None:
        meta["description"] = description
    if key.algorithm not in ALGORITHMS:
        raise KeyMaterialError(f"{key.algorithm} keys sign OCPP 2.1 JWS only (security/jws.py)")
    if payload_jcs is None:
        payload_jcs = canonical_payload(payload)
    data = signed_bytes(context_of(version, action, kind), payload_jcs, meta)
    if key.algorithm == "ed25519":
        assert isinstance(key.private_key, ed25519.Ed25519PrivateKey)
        raw = key.private_key.sign(data)
    else:
        assert isinstance(key.private_key, ec.EllipticCurvePrivateKey)
        raw = key.private_key.sign(data, _ECDSA[key.algorithm])
    meta["value"] = base64.b64encode(raw).decode("ascii")
    existing = payload.get("signatures")
    before = list(existing) if isinstance(existing, list) else []
    return {**payload, "signatures": [*before, meta]}


def verify(
    payload: Mapping[str, Any],
    *,
    action: str,
    kind: str,
    version: str,
    trusted: TrustStore,
    now: datetime,
    replay: ReplayCache | None = None,
) -> list[SignatureVerdict]:
    """One verdict per entry of ``payload["signatures"]`` (empty list when unsigned); never raises.

    Only keys in ``trusted`` are used. Signatures that verify are recorded in ``replay``.
    """
    sigs = payload.get("signatures")
    if sigs is None:
        return []
    if not isinstance(sigs, list):
        return [SignatureVerdict(0, None, VerdictStatus.MALFORMED,
                                 "malformed: 'signatures' is not an array")]
    context = context_of(version, action, kind)
    try:
        payload_jcs: bytes | None = canonical_payload(payload)
        jcs_problem = ""
    except CanonicalizationError as exc:
        payload_jcs, jcs_problem = None, f"malformed: payload has no canonical form: {exc}"
    window = replay.window if replay is not None else DEFAULT_WINDOW
    now_ts = now.timestamp()
    out: list[SignatureVerdict] = []
    for index, sig in enumerate(sigs):
        out.append(_verify_one(index, sig, context, payload_jcs, jcs_problem, trusted,
                               now, now_ts, window, replay))
    return out


def _verify_one(
    index: int,
    sig: Any,
    context: str,
    payload_jcs: bytes | None,
    jcs_problem: str,
    trusted: TrustStore,
    now: datetime,
    now_ts: float,
    window: float,
    replay: ReplayCache | None,
) -> SignatureVerdict:
    subject: str | None = None

    def verdict(status: VerdictStatus, reason: str) -> SignatureVerdict:
        kid = sig.get("keyId") if isinstance(sig, dict) else None
        name = sig.get("name") if isinstance(sig, dict) else None
        return SignatureVerdict(index, kid if isinstance(kid, str) else None, status, reason,
                                name if isinstance(name, str) else None, subject)

    problem = _shape_problem(sig)
    if problem:
        return verdict(VerdictStatus.MALFORMED, f"malformed: {problem}")
    algorithm = sig["algorithm"]
    if algorithm not in ALGORITHMS:
        return verdict(VerdictStatus.UNKNOWN_ALGORITHM, f"unknown algorithm {algorithm!r}")
    if sig["signingMethod"] != SIGNING_METHOD:
        return verdict(VerdictStatus.UNKNOWN_ALGORITHM,
                       f"unknown signingMethod {sig['signingMethod']!r}")
    if sig["encodingMethod"] != ENCODING_METHOD:
        return verdict(VerdictStatus.UNKNOWN_ALGORITHM,
                       f"unknown encodingMethod {sig['encodingMethod']!r}")
    try:
        value = sig["value"]
        raw = binascii.a2b_base64(value, strict_mode=True) if len(value) % 4 == 0 else None
    except (binascii.Error, ValueError):
        raw = None
    if raw is None:
        return verdict(VerdictStatus.MALFORMED, "malformed: 'value' is not valid base64")
    if not raw:
        return verdict(VerdictStatus.MALFORMED, "malformed: 'value' is empty")
    signed_at = parse_timestamp(sig["timestamp"], naive="reject")
    if signed_at is None:
        return verdict(VerdictStatus.MALFORMED,
                       "malformed: 'timestamp' is not an RFC 3339 date-time with offset")
    entry = trusted.resolve(sig["keyId"], now=now, x5c=sig.get("x5c"))
    if isinstance(entry, Refusal):
        status = VerdictStatus.UNKNOWN_KEY if entry.unknown else VerdictStatus.UNTRUSTED_KEY
        return verdict(status, entry.reason)
    subject = entry.subject
    distrust = entry.distrust_reason(signed_at)
    if distrust:
        return verdict(VerdictStatus.UNTRUSTED_KEY, distrust)
    if entry.algorithm != algorithm:
        return verdict(VerdictStatus.UNKNOWN_ALGORITHM,
                       f"algorithm {algorithm!r} does not match the key ({entry.algorithm})")
    ts = signed_at.timestamp()
    outside = window_problem(ts, now_ts, window)
    if outside:
        return verdict(VerdictStatus(outside[0]), outside[1])
    if payload_jcs is None:
        return verdict(VerdictStatus.MALFORMED, jcs_problem)
    try:
        data = signed_bytes(context, payload_jcs, sig)
    except CanonicalizationError as exc:
        return verdict(VerdictStatus.MALFORMED, f"malformed: signature object: {exc}")
    key = entry.public_key
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(raw, data)
            digest = hashlib.sha256(data).digest()
        elif isinstance(key, ec.EllipticCurvePublicKey):  # hash once: ECDSA + replay cache
            digest = hashlib.new(_HASH_NAME[algorithm], data).digest()
            key.verify(raw, digest, _ECDSA_PREHASHED[algorithm])
        else:  # unreachable: an RSA key's algorithm never matches ours
            raise InvalidSignature
    except (InvalidSignature, ValueError):
        return verdict(VerdictStatus.INVALID,
                       "invalid signature: payload, action or signature metadata changed")
    if replay is not None:
        again = replay.remember(sig["keyId"], digest, ts, now_ts)
        if again:
            return verdict(VerdictStatus.REPLAYED, again)
    return verdict(VerdictStatus.VALID, "valid")


def _shape_problem(sig: Any) -> str:
    if not isinstance(sig, dict):
        return "signature is not an object"
    if all(type(sig.get(name)) is str for name in _REQUIRED) and (
        "name" not in sig or type(sig["name"]) is str
    ) and ("description" not in sig or type(sig["description"]) is str):
        return ""
    for name in _REQUIRED:
        if name not in sig:
            return f"missing field {name!r}"
        if not isinstance(sig[name], str):
            return f"field {name!r} must be a string, not {type(sig[name]).__name__}"
    for name in _OPTIONAL_TEXT:
        if name in sig and not isinstance(sig[name], str):
            return f"field {name!r} must be a string, not {type(sig[name]).__name__}"
    return ""
