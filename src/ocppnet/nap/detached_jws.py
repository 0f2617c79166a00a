"""Detached JSON Web Signatures (RFC 7515, compact serialization, appendix F) over exports.

``sign_detached(content, key)`` returns ``BASE64URL(header) + ".." + BASE64URL(signature)``:
the payload part is left out and the verifier supplies the exported bytes themselves, so a
publication is served and stored unchanged next to its signature. The header names the key
(``kid``, the project's key id: base64url SHA-256 of the SubjectPublicKeyInfo) and the content
type. Algorithms: ES256 / ES384 / ES512 (ECDSA P-256/384/521, signature ``r || s`` as RFC 7518
section 3.4 says) and Ed25519 (RFC 9864). A verifier never takes the algorithm from the header
alone: it must be the one of the trusted key that ``kid`` names.

The security configuration's JWS module (OCPP 2.1 signed messages, ``security.jws``) is
the OCPP 2.1 flattened form with the payload inside; exports need the detached compact form,
so this one is separate. It uses only ``cryptography``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from ocppnet.security.keys import PrivateKey, PublicKey, algorithm_of, key_id

__all__ = ["DetachedJwsError", "Verified", "jose_algorithm", "sign_detached", "verify_detached"]

_JOSE: dict[str, tuple[str, type[hashes.HashAlgorithm] | None, int]] = {
    # our algorithm name -> (JOSE alg, hash, size of r and s in bytes)
    "secp256r1": ("ES256", hashes.SHA256, 32),
    "secp384r1": ("ES384", hashes.SHA384, 48),
    "secp521r1": ("ES512", hashes.SHA512, 66),
    "ed25519": ("Ed25519", None, 0),  # RFC 9864 (fully specified; "EdDSA" is deprecated)
}


class DetachedJwsError(ValueError):
    """A signature that is malformed, from an unknown key, or does not match the content."""


@dataclass(frozen=True, slots=True)
class Verified:
    key_id: str
    algorithm: str  # JOSE name
    header: dict[str, Any]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise DetachedJwsError(f"{what} is not base64url") from None


def _jose(key: PrivateKey | PublicKey) -> tuple[str, type[hashes.HashAlgorithm] | None, int]:
    ours = algorithm_of(key)
    if ours not in _JOSE:  # e.g. an RSA key: exports are signed with EC or Ed25519 keys
        raise DetachedJwsError(f"a {ours} key cannot sign an export (use ES256/384/512, Ed25519)")
    return _JOSE[ours]


def jose_algorithm(key: PrivateKey | PublicKey) -> str:
    """The JOSE ``alg`` of a key (ES256, ES384, ES512 or Ed25519)."""
    return _jose(key)[0]


def sign_detached(content: bytes, key: PrivateKey, *, content_type: str | None = None) -> str:
    """A compact JWS with detached payload over ``content``."""
    alg, digest, size = _jose(key)
    header: dict[str, Any] = {"alg": alg, "kid": key_id(key)}
    if content_type is not None:
        header["cty"] = content_type
    protected = _b64(json.dumps(header, separators=(",", ":"), sort_keys=True).encode())
    signing_input = f"{protected}.{_b64(content)}".encode("ascii")
    if isinstance(key, ed25519.Ed25519PrivateKey):
        signature = key.sign(signing_input)
    else:
        assert digest is not None and isinstance(key, ec.EllipticCurvePrivateKey)
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(digest())))
        signature = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    return f"{protected}..{_b64(signature)}"


def verify_detached(content: bytes, jws: str, trusted: Mapping[str, PublicKey]) -> Verified:
    """Check ``jws`` over ``content`` with the trusted key its ``kid`` names.

    ``trusted`` maps key ids to public keys. Raises :class:`DetachedJwsError` with the reason.
    """
    parts = jws.strip().split(".")
    if len(parts) != 3:
        raise DetachedJwsError("not a compact JWS (expected header..signature)")
    protected, payload, signature_b64 = parts
    if payload:
        raise DetachedJwsError("the payload is attached; expected header..signature")
    try:
        header = json.loads(_unb64(protected, "header"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise DetachedJwsError("the header is not JSON") from None
    if not isinstance(header, dict):
        raise DetachedJwsError("the header is not a JSON object")
    if "crit" in header:
        raise DetachedJwsError(f"unsupported critical header parameters {header['crit']!r}")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise DetachedJwsError("the header has no kid")
    key = trusted.get(kid)
    if key is None:
        raise DetachedJwsError(f"signed by key {kid}, which is not trusted")
    alg, digest, size = _jose(key)
    if header.get("alg") != alg:
        raise DetachedJwsError(f"alg {header.get('alg')!r} does not match key {kid} ({alg})")
    signature = _unb64(signature_b64, "signature")
    signing_input = f"{protected}.{_b64(content)}".encode("ascii")
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, signing_input)
        else:
            assert digest is not None and isinstance(key, ec.EllipticCurvePublicKey)
            if len(signature) != 2 * size:
                raise DetachedJwsError(
                    f"an {alg} signature has {2 * size} bytes, got {len(signature)}")
            r = int.from_bytes(signature[:size], "big")
            s = int.from_bytes(signature[size:], "big")
            key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(digest()))
    except InvalidSignature:
        raise DetachedJwsError(f"signature by {kid} does not match the content") from None
    return Verified(kid, alg, header)
