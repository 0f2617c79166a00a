"""OCPP 2.1 signed messages (Part 4, chapter 7): ``<Action>-Signed`` with a flattened JWS.

The frame keeps its message type and id; the action gets the suffix ``-Signed`` and the payload
becomes an RFC 7515 flattened JWS JSON object ``{"protected", "payload", "signature"}`` whose
payload is the original OCPP payload and whose protected header holds ``OCPPAction`` (the
action without suffix) and ``OCPPMessageTypedId`` (2 CALL, 3 CALLRESULT, 6 SEND; the
specification's spelling). Algorithms: ES256, RS256, RS384 (Part 4 section 7.3).

Which key signed: ``x5t#S256`` (SHA-256 thumbprint of the signer's certificate, section 7.4),
with ``x5c`` (the chain itself, RFC 7515 4.1.6; protected, or in the unprotected ``header``
member bound by the protected thumbprint) for a key certified by an owner CA, or ``kid`` (our
key id, for a pinned key without certificate). The verifier looks each up in its own
trust store only. The specification has no timestamp: we add ``iat`` (seconds since the epoch)
when we sign and check it against the replay window when present; without it a replay can
only be caught while the signature is remembered (one window from its first arrival).

Pure: ``now`` is passed in. Verdicts are the :class:`SignatureVerdict` of our own form, so
policies and roles treat both forms alike.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)

from ocppnet.security.keys import KeyMaterialError, KeyPair, PublicKey
from ocppnet.security.replay import DEFAULT_WINDOW, ReplayCache, window_problem
from ocppnet.security.signatures import SignatureVerdict, VerdictStatus
from ocppnet.security.trust import Refusal, TrustStore

__all__ = [
    "JWS_ALGORITHMS",
    "MESSAGE_TYPE_IDS",
    "SIGNED_SUFFIX",
    "JwsCheck",
    "JwsError",
    "OpenedJws",
    "is_signed",
    "jws_algorithm",
    "open_jws",
    "sign_jws",
    "signed_action",
    "unsigned_action",
    "verify_jws",
]

SIGNED_SUFFIX: Final = "-Signed"
JWS_ALGORITHMS: Final = ("ES256", "RS256", "RS384")
#: OCPPMessageTypedId values a verifier accepts for a kind of message
MESSAGE_TYPE_IDS: Final[dict[str, frozenset[int]]] = {
    "request": frozenset({2, 6}), "response": frozenset({3}),
}
_MEMBERS: Final = frozenset({"protected", "payload", "signature", "header"})
#: "crit" names we process: none, so any "crit" is refused (RFC 7515 4.1.11)
_UNDERSTOOD: Final[frozenset[str]] = frozenset()
_ES256_PREHASHED: Final = ec.ECDSA(Prehashed(hashes.SHA256()))
_RSA_HASH: Final[dict[str, type[hashes.SHA256] | type[hashes.SHA384]]] = {
    "RS256": hashes.SHA256, "RS384": hashes.SHA384,
}


class JwsError(ValueError):
    """The object is not a flattened JWS we can read (the reason is one line)."""


def is_signed(action: str) -> bool:
    return action.endswith(SIGNED_SUFFIX) and len(action) > len(SIGNED_SUFFIX)


def unsigned_action(action: str) -> str:
    return action.removesuffix(SIGNED_SUFFIX)


def signed_action(action: str) -> str:
    return action + SIGNED_SUFFIX


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str, what: str) -> bytes:
    if "=" in text or "+" in text or "/" in text:
        raise JwsError(f"{what} is not base64url without padding")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise JwsError(f"{what} is not base64url") from None


def jws_algorithm(key: KeyPair, rsa_alg: str = "RS256") -> str:
    """The JWS ``alg`` for a key: ES256 for P-256, RS256/RS384 for RSA; other keys cannot sign
    OCPP 2.1 signed messages (KeyMaterialError)."""
    if key.algorithm == "secp256r1":
        return "ES256"
    if key.algorithm == "rsa":
        if rsa_alg not in _RSA_HASH:
            raise KeyMaterialError(f"RSA signs with RS256 or RS384, not {rsa_alg!r}")
        return rsa_alg
    raise KeyMaterialError(
        f"a {key.algorithm} key cannot sign OCPP 2.1 messages (ES256, RS256, RS384 only)"
    )


def _thumbprint_of_leaf(chain: tuple[str, ...]) -> str:
    return _b64url(hashlib.sha256(base64.b64decode(chain[0])).digest())


def _leaf_thumbprint(x5c: object) -> str | None:
    """``x5t#S256`` of an ``x5c``'s first certificate, None when it is not readable."""
    if not isinstance(x5c, list) or not x5c or not isinstance(x5c[0], str):
        return None
    try:
        der = base64.b64decode(x5c[0], validate=True)
    except (binascii.Error, ValueError):
        return None
    return _b64url(hashlib.sha256(der).digest())


def sign_jws(
    payload: Mapping[str, Any],
    *,
    action: str,
    message_type_id: int,
    key: KeyPair,
    now: datetime | None = None,
    include_chain: bool = True,
    rsa_alg: str = "RS256",
) -> dict[str, Any]:
    """The flattened JWS of ``payload`` for ``action`` (without suffix).

    The protected header names the key by ``x5t#S256`` when the key has a certificate (the
    chain itself, if ``include_chain``, goes in the unprotected ``header`` member as ``x5c``:
    it is bound by the protected thumbprint and keeps the protected header small, as strict
    JOSE libraries limit it), by ``kid`` otherwise; ``iat`` is set when ``now`` is given.
    """
    alg = jws_algorithm(key, rsa_alg)
    header: dict[str, Any] = {
        "alg": alg, "OCPPAction": action, "OCPPMessageTypedId": message_type_id,
    }
    unprotected: dict[str, Any] = {}
    if key.chain:
        header["x5t#S256"] = _thumbprint_of_leaf(key.chain)
        if include_chain:
            unprotected["x5c"] = list(key.chain)
    else:
        header["kid"] = key.key_id
    if now is not None:
        header["iat"] = int(now.timestamp())
    protected = _b64url(orjson.dumps(header))
    body = _b64url(orjson.dumps(dict(payload)))
    signing_input = f"{protected}.{body}".encode("ascii")
    private = key.private_key
    if isinstance(private, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(private.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    elif isinstance(private, rsa.RSAPrivateKey):
        raw = private.sign(signing_input, padding.PKCS1v15(), _RSA_HASH[alg]())
    else:  # jws_algorithm refused it already
        raise KeyMaterialError(f"a {key.algorithm} key cannot sign OCPP 2.1 messages")
    out: dict[str, Any] = {"protected": protected, "payload": body, "signature": _b64url(raw)}
    if unprotected:
        out["header"] = unprotected
    return out


@dataclass(frozen=True, slots=True)
class OpenedJws:
    header: dict[str, Any]  # the protected header
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes
    unprotected: dict[str, Any]  # the ``header`` member (not signed: only x5c is read)


def open_jws(obj: Any) -> OpenedJws:
    """Decode a flattened JWS object (no signature check); JwsError says what is wrong."""
    if not isinstance(obj, dict):
        raise JwsError("signed payload is not a JSON object")
    extra = sorted(set(obj) - _MEMBERS)
    if extra:
        raise JwsError(f"unexpected member(s) {', '.join(extra)} in the flattened JWS")
    for name in ("protected", "payload", "signature"):
        if not isinstance(obj.get(name), str):
            raise JwsError(f"member {name!r} missing or not a string")
    if "header" in obj and not isinstance(obj["header"], dict):
        raise JwsError("member 'header' is not an object")
    try:
        header = orjson.loads(_unb64url(obj["protected"], "protected"))
    except orjson.JSONDecodeError:
        raise JwsError("protected header is not JSON") from None
    if not isinstance(header, dict):
        raise JwsError("protected header is not a JSON object")
    try:
        payload = orjson.loads(_unb64url(obj["payload"], "payload"))
    except orjson.JSONDecodeError:
        raise JwsError("JWS payload is not JSON") from None
    if not isinstance(payload, dict):
        raise JwsError("JWS payload is not a JSON object")
    signature = _unb64url(obj["signature"], "signature")
    signing_input = f"{obj['protected']}.{obj['payload']}".encode("ascii")
    return OpenedJws(header, payload, signing_input, signature, dict(obj.get("header") or {}))


@dataclass(frozen=True, slots=True)
class JwsCheck:
    """``payload`` is the encapsulated message (None: the JWS could not be read at all)."""

    payload: dict[str, Any] | None
    verdict: SignatureVerdict


def verify_jws(
    obj: Any,
    *,
    action: str,
    kind: str,
    trusted: TrustStore,
    now: datetime,
    replay: ReplayCache | None = None,
    message_type_id: int | None = None,
) -> JwsCheck:
    """Open and verify a flattened JWS for ``action`` (without suffix); never raises."""
    try:
        opened = open_jws(obj)
    except JwsError as exc:
        return JwsCheck(None, SignatureVerdict(0, None, VerdictStatus.MALFORMED,
                                               f"malformed: {exc}"))
    return JwsCheck(opened.payload, _verdict(opened, action, kind, trusted, now, replay,
                                             message_type_id))


def _verdict(
    opened: OpenedJws,
    action: str,
    kind: str,
    trusted: TrustStore,
    now: datetime,
    replay: ReplayCache | None,
    message_type_id: int | None,
) -> SignatureVerdict:
    header = opened.header
    kid = header.get("kid") if isinstance(header.get("kid"), str) else None
    found: Any = None

    def verdict(status: VerdictStatus, reason: str) -> SignatureVerdict:
        if isinstance(found, Refusal) or found is None:
            return SignatureVerdict(0, kid, status, reason)
        return SignatureVerdict(0, found.key_id, status, reason, found.name, found.subject)

    alg = header.get("alg")
    if alg not in JWS_ALGORITHMS:
        return verdict(VerdictStatus.UNKNOWN_ALGORITHM,
                       f"unknown JWS alg {alg!r} (OCPP 2.1 allows {', '.join(JWS_ALGORITHMS)})")
    if "crit" in header and not set(header["crit"] or ()) <= _UNDERSTOOD:
        return verdict(VerdictStatus.MALFORMED, "malformed: unsupported 'crit' header")
    if header.get("OCPPAction") != action:
        return verdict(VerdictStatus.INVALID,
                       f"invalid signature: OCPPAction {header.get('OCPPAction')!r} "
                       f"is not the frame's action {action!r}")
    allowed = {message_type_id} if message_type_id is not None else MESSAGE_TYPE_IDS[kind]
    mtid = header.get("OCPPMessageTypedId")
    if type(mtid) is not int or mtid not in allowed:
        return verdict(VerdictStatus.INVALID,
                       f"invalid signature: OCPPMessageTypedId {mtid!r} does not match the "
                       f"frame ({', '.join(map(str, sorted(allowed)))})")
    x5t = header.get("x5t#S256")
    if x5t is not None and not isinstance(x5t, str):
        return verdict(VerdictStatus.MALFORMED, "malformed: x5t#S256 is not a string")
    x5c = header.get("x5c")
    if x5c is None and "x5c" in opened.unprotected:
        if x5t is None:  # an unprotected chain must be bound by the protected thumbprint
            return verdict(VerdictStatus.MALFORMED,
                           "malformed: unprotected x5c without a protected x5t#S256")
        x5c = opened.unprotected["x5c"]
    if x5c is not None and x5t is not None and _leaf_thumbprint(x5c) != x5t:
        return verdict(VerdictStatus.MALFORMED, "malformed: x5t#S256 is not the x5c leaf")
    found = trusted.resolve(kid, now=now, x5c=x5c, x5t=x5t)
    if isinstance(found, Refusal):
        return verdict(VerdictStatus.UNKNOWN_KEY if found.unknown else VerdictStatus.UNTRUSTED_KEY,
                       found.reason)
    if x5t is not None and found.thumbprint is not None and found.thumbprint != x5t:
        return verdict(VerdictStatus.MALFORMED, "malformed: x5t#S256 is not the x5c leaf")
    iat = header.get("iat")
    if iat is not None and (type(iat) not in (int, float)):
        return verdict(VerdictStatus.MALFORMED, "malformed: 'iat' is not a number")
    signed_ts = float(iat) if iat is not None else now.timestamp()
    if found.revoked or found.not_before is not None or found.not_after is not None:
        distrust = found.distrust_reason(datetime.fromtimestamp(signed_ts, UTC))
        if distrust:
            return verdict(VerdictStatus.UNTRUSTED_KEY, distrust)
    window = replay.window if replay is not None else DEFAULT_WINDOW
    outside = window_problem(signed_ts, now.timestamp(), window)
    if outside:
        return verdict(VerdictStatus(outside[0]), outside[1])
    digest = hashlib.sha256(opened.signing_input).digest()  # ES256's hash and the replay key
    problem = _check_signature(found.public_key, alg, opened, digest)
    if problem is not None:
        return verdict(*problem)
    if replay is not None:
        again = replay.remember(found.key_id, digest, signed_ts, now.timestamp())
        if again:
            return verdict(VerdictStatus.REPLAYED, again)
    return verdict(VerdictStatus.VALID, "valid")


def _check_signature(
    key: PublicKey, alg: str, opened: OpenedJws, sha256: bytes
) -> tuple[VerdictStatus, str] | None:
    mismatch = (VerdictStatus.UNKNOWN_ALGORITHM, f"JWS alg {alg} does not match the key")
    try:
        if alg == "ES256":
            if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
                return mismatch
            if len(opened.signature) != 64:
                return VerdictStatus.INVALID, "invalid signature: ES256 value is not 64 bytes"
            r = int.from_bytes(opened.signature[:32], "big")
            s = int.from_bytes(opened.signature[32:], "big")
            key.verify(encode_dss_signature(r, s), sha256, _ES256_PREHASHED)
        else:
            if not isinstance(key, rsa.RSAPublicKey):
                return mismatch
            key.verify(opened.signature, opened.signing_input, padding.PKCS1v15(),
                       _RSA_HASH[alg]())
    except (InvalidSignature, ValueError):
        return VerdictStatus.INVALID, "invalid signature: JWS payload or protected header changed"
    return None
