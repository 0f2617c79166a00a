"""Meter keys and OCMF signature algorithms (table 22): ECDSA over the payload bytes, DER.

The default is ``ECDSA-secp256r1-SHA256``; every other curve of the table works too:
secp256k1, secp192r1, secp384r1, brainpool256r1/384r1 through ``cryptography`` (OpenSSL),
and secp192k1, which OpenSSL lacks, through :mod:`ocppnet.metering.secp192k1`. All methods
hash with SHA-256, whatever the curve (as the table says).
Public keys are DER SubjectPublicKeyInfo, written as hex (transparency files) or base64
(OCPP 2.x ``publicKey``); :func:`parse_public_key` reads either, with or without spaces.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ocppnet.metering import secp192k1
from ocppnet.metering.errors import OcmfError

__all__ = [
    "DEFAULT_ALGORITHM",
    "SIGNATURE_ALGORITHMS",
    "MeterKey",
    "MeterPublicKey",
    "curve_of_algorithm",
    "parse_public_key",
]

DEFAULT_ALGORITHM = "ECDSA-secp256r1-SHA256"

# SA value -> curve name (as cryptography names it); None would mean: listed, not available.
SIGNATURE_ALGORITHMS: dict[str, str | None] = {
    "ECDSA-secp192k1-SHA256": "secp192k1",
    "ECDSA-secp256k1-SHA256": "secp256k1",
    "ECDSA-secp192r1-SHA256": "secp192r1",
    "ECDSA-secp256r1-SHA256": "secp256r1",
    "ECDSA-brainpool256r1-SHA256": "brainpoolP256r1",
    "ECDSA-secp384r1-SHA256": "secp384r1",
    "ECDSA-brainpool384r1-SHA256": "brainpoolP384r1",
}
_SYNONYMS = {
    "ECDSA-brainpoolP256r1-SHA256": "ECDSA-brainpool256r1-SHA256",
    "ECDSA-brainpoolP384r1-SHA256": "ECDSA-brainpool384r1-SHA256",
    "ECDSA-prime256v1-SHA256": "ECDSA-secp256r1-SHA256",
}
_CURVES: dict[str, type[ec.EllipticCurve]] = {
    "secp256k1": ec.SECP256K1, "secp192r1": ec.SECP192R1, "secp256r1": ec.SECP256R1,
    "brainpoolP256r1": ec.BrainpoolP256R1, "secp384r1": ec.SECP384R1,
    "brainpoolP384r1": ec.BrainpoolP384R1,
}
_HEX = re.compile(r"[0-9A-Fa-f]+")


def canonical_algorithm(name: str | None) -> str:
    """The table-22 name of an SA value (None means the default)."""
    if name is None:
        return DEFAULT_ALGORITHM
    return _SYNONYMS.get(name, name)


def curve_of_algorithm(name: str | None) -> str:
    """The curve an SA value names; OcmfError for unknown or unavailable algorithms."""
    algorithm = canonical_algorithm(name)
    if algorithm not in SIGNATURE_ALGORITHMS:
        raise OcmfError(f"signature.SA: unknown signature algorithm {name!r}")
    curve = SIGNATURE_ALGORITHMS[algorithm]
    if curve is None:
        raise OcmfError(f"signature.SA: {algorithm} is in the OCMF table but not supported here")
    return curve


@dataclass(frozen=True, slots=True)
class MeterPublicKey:
    """A meter's public key: the DER SubjectPublicKeyInfo, the curve, the loaded key (kept:
    loading DER costs about as much as one verification). Equal when the DER is equal."""

    der: bytes
    curve: str
    key: ec.EllipticCurvePublicKey | None = field(compare=False, repr=False)
    """The loaded key (None for secp192k1, which ``fallback`` holds)."""
    fallback: Any = field(default=None, compare=False, repr=False)

    def hex(self) -> str:
        """Upper-case hex, as the transparency software's files carry it."""
        return self.der.hex().upper()

    def base64(self) -> str:
        """Base64, as OCPP 2.x ``signedMeterValue.publicKey`` carries it."""
        return base64.b64encode(self.der).decode("ascii")

    def verify(self, signature: bytes, data: bytes) -> bool:
        """ECDSA/SHA-256 check of a DER signature over ``data``."""
        if self.key is None:
            return secp192k1.verify(self.fallback, signature, data)
        try:
            self.key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return False
        return True


def public_key_of(key: ec.EllipticCurvePublicKey) -> MeterPublicKey:
    der = key.public_bytes(serialization.Encoding.DER,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return MeterPublicKey(der, key.curve.name, key)


def parse_public_key(text: str, where: str = "publicKey") -> MeterPublicKey:
    """A public key from hex or base64 DER (spaces allowed) or PEM; OcmfError naming where."""
    if text.lstrip().startswith("-----BEGIN"):
        text = "".join(line for line in text.strip().splitlines() if "-----" not in line)
    compact = "".join(text.split())
    if not compact:
        raise OcmfError(f"{where}: empty")
    try:
        if _HEX.fullmatch(compact) and len(compact) % 2 == 0:
            der = bytes.fromhex(compact)
        else:
            der = base64.b64decode(compact, validate=True)
    except (ValueError, binascii.Error):
        raise OcmfError(f"{where}: not a DER public key in hex or base64") from None
    try:
        loaded = serialization.load_der_public_key(der)
    except (UnsupportedAlgorithm, ValueError):
        fallback = secp192k1.load_public_der(der)
        if fallback is None:
            raise OcmfError(f"{where}: not a DER public key in hex or base64 on a curve of "
                            "the OCMF table") from None
        return MeterPublicKey(der, secp192k1.CURVE_NAME, None, fallback)
    if not isinstance(loaded, ec.EllipticCurvePublicKey):
        raise OcmfError(f"{where}: not an elliptic-curve key (OCMF signs with ECDSA)")
    return public_key_of(loaded)


class MeterKey:
    """A meter's private signing key and the SA it signs with; never printed."""

    __slots__ = ("_key", "algorithm", "curve")

    def __init__(self, key: ec.EllipticCurvePrivateKey | Any,
                 algorithm: str | None = None) -> None:
        """``key``: a ``cryptography`` EC private key (or a python-ecdsa one on secp192k1)."""
        self.curve = key.curve.name if isinstance(key, ec.EllipticCurvePrivateKey) \
            else secp192k1.CURVE_NAME
        # The spelling given is kept (``brainpoolP256r1`` is what the transparency software's
        # own samples write); it must name the key's curve.
        self.algorithm = algorithm or _algorithm_for(self.curve)
        if curve_of_algorithm(self.algorithm) != self.curve:
            raise OcmfError(f"signature.SA: {self.algorithm} does not match a "
                            f"{self.curve} key")
        self._key = key

    def __repr__(self) -> str:
        return f"MeterKey({self.algorithm})"

    @classmethod
    def generate(cls, algorithm: str = DEFAULT_ALGORITHM) -> MeterKey:
        curve = curve_of_algorithm(algorithm)
        if curve == secp192k1.CURVE_NAME:
            return cls(secp192k1.generate(), algorithm)
        return cls(ec.generate_private_key(_CURVES[curve]()), algorithm)

    @classmethod
    def from_pem(cls, pem: bytes, algorithm: str | None = None) -> MeterKey:
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (UnsupportedAlgorithm, ValueError):
            fallback = secp192k1.load_private_pem(pem)
            if fallback is None:
                raise OcmfError("meter key: not a PEM private key on a curve of the OCMF "
                                "table") from None
            return cls(fallback, algorithm)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise OcmfError("meter key: not an elliptic-curve private key")
        return cls(key, algorithm)

    def pem(self) -> bytes:
        if not isinstance(self._key, ec.EllipticCurvePrivateKey):
            return secp192k1.private_pem(self._key)
        return self._key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())

    @property
    def public(self) -> MeterPublicKey:
        if not isinstance(self._key, ec.EllipticCurvePrivateKey):
            return parse_public_key(secp192k1.public_der(self._key).hex())
        return public_key_of(self._key.public_key())

    def sign(self, data: bytes) -> bytes:
        """A DER ECDSA signature over ``data`` (SHA-256)."""
        if not isinstance(self._key, ec.EllipticCurvePrivateKey):
            return secp192k1.sign(self._key, data)
        return self._key.sign(data, ec.ECDSA(hashes.SHA256()))


def _algorithm_for(curve: str) -> str:
    for name, known in SIGNATURE_ALGORITHMS.items():
        if known == curve:
            return name
    raise OcmfError(f"meter key: curve {curve} is not in the OCMF signature table")
