"""``ECDSA-secp192k1-SHA256``: the one curve of OCMF table 22 that OpenSSL does not offer.

The transparency software accepts it, so we do too, with the pure-Python ``ecdsa`` package
and the curve's domain parameters from SEC 2 (version 2.0, section 2.2.1). python-ecdsa has
no API to add a curve, so the curve is appended to its curve list once: that is how its
DER/PEM readers find a curve by OID. Verification only handles public data; keys for this
curve are for tests and old meters, never the default.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ecdsa import BadSignatureError, SigningKey, VerifyingKey, curves
from ecdsa.der import UnexpectedDER
from ecdsa.ellipticcurve import CurveFp, PointJacobi
from ecdsa.errors import MalformedPointError
from ecdsa.util import sigdecode_der, sigencode_der

__all__ = ["CURVE_NAME", "generate", "load_private_pem", "load_public_der", "sign", "verify"]

CURVE_NAME = "secp192k1"
_OID = (1, 3, 132, 0, 31)


def _curve() -> Any:
    for known in curves.curves:
        if known.oid == _OID:
            return known
    p = 0xFFFFFFFF_FFFFFFFF_FFFFFFFF_FFFFFFFF_FFFFFFFE_FFFFEE37
    n = 0xFFFFFFFF_FFFFFFFF_FFFFFFFE_26F2FC17_0F69466A_74DEFD8D
    gx = 0xDB4FF10E_C057E9AE_26B07D02_80B7F434_1DA5D1B1_EAE06C7D
    gy = 0x9B2F2F6D_9C5628A7_844163D0_15BE8634_4082AA88_D95E2F9D
    field = CurveFp(p, 0, 3, 1)
    curve = curves.Curve("SECP192k1", field, PointJacobi(field, gx, gy, 1, n, generator=True),
                         _OID, "secp192k1")
    curves.curves.append(curve)
    return curve


CURVE = _curve()


def load_public_der(der: bytes) -> Any | None:
    """The verifying key of a secp192k1 SubjectPublicKeyInfo, None for any other key."""
    try:
        key = VerifyingKey.from_der(der, hashfunc=hashlib.sha256)
    except (UnexpectedDER, MalformedPointError, curves.UnknownCurveError, ValueError):
        return None
    return key if key.curve is CURVE else None


def verify(key: Any, signature: bytes, data: bytes) -> bool:
    try:
        return bool(key.verify(signature, data, hashfunc=hashlib.sha256,
                               sigdecode=sigdecode_der))
    except (BadSignatureError, UnexpectedDER):
        return False


def generate() -> Any:
    return SigningKey.generate(curve=CURVE, hashfunc=hashlib.sha256)


def load_private_pem(pem: bytes) -> Any | None:
    try:
        key = SigningKey.from_pem(pem, hashfunc=hashlib.sha256)
    except (UnexpectedDER, curves.UnknownCurveError, ValueError):
        return None
    return key if key.curve is CURVE else None


def sign(key: Any, data: bytes) -> bytes:
    return bytes(key.sign_deterministic(data, hashfunc=hashlib.sha256, sigencode=sigencode_der))


def public_der(key: Any) -> bytes:
    return bytes(key.get_verifying_key().to_der())


def private_pem(key: Any) -> bytes:
    return bytes(key.to_pem(format="pkcs8"))
