"""Key pairs for end-to-end signatures: algorithms, PEM import/export, key ids.

Algorithm names are the ``algorithm`` values on the wire (WWCP_OCPP uses the same curve names):
``secp256r1`` (ECDSA/SHA-256), ``secp384r1`` (ECDSA/SHA-384), ``secp521r1`` (ECDSA/SHA-512) and
``ed25519``. RSA keys (``rsa``, at least 2048 bits) exist for OCPP 2.1 JWS only (RS256/RS384,
security/jws.py); our own signature form does not use them. A key id is base64url (no padding)
of SHA-256 over the DER SubjectPublicKeyInfo.
Private key material never appears in ``repr`` or ``str``.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import TypeAlias

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

__all__ = [
    "ALGORITHMS",
    "KEY_ALGORITHMS",
    "KeyMaterialError",
    "KeyPair",
    "PrivateKey",
    "PublicKey",
    "algorithm_of",
    "generate",
    "key_id",
    "load_private_pem",
    "load_public_pem",
    "private_pem",
    "public_pem",
]

PrivateKey: TypeAlias = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
PublicKey: TypeAlias = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey

_CURVES: dict[str, tuple[type[ec.EllipticCurve], type[hashes.HashAlgorithm]]] = {
    "secp256r1": (ec.SECP256R1, hashes.SHA256),
    "secp384r1": (ec.SECP384R1, hashes.SHA384),
    "secp521r1": (ec.SECP521R1, hashes.SHA512),
}
ALGORITHMS: tuple[str, ...] = (*_CURVES, "ed25519")
#: what a key store can hold: ours plus RSA (JWS only)
KEY_ALGORITHMS: tuple[str, ...] = (*ALGORITHMS, "rsa")
_RSA_MIN_BITS = 2048


class KeyMaterialError(ValueError):
    """A key could not be generated, parsed or used (unknown algorithm, bad PEM, wrong type)."""


def generate(algorithm: str) -> PrivateKey:
    """A fresh private key for one of :data:`ALGORITHMS`."""
    if algorithm == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=_RSA_MIN_BITS)
    if algorithm not in _CURVES:
        raise KeyMaterialError(
            f"unknown algorithm {algorithm!r} (known: {', '.join(KEY_ALGORITHMS)})"
        )
    return ec.generate_private_key(_CURVES[algorithm][0]())


def algorithm_of(key: PrivateKey | PublicKey) -> str:
    """The wire algorithm name of a key; KeyMaterialError for curves we do not sign with."""
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "ed25519"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        name = key.curve.name
        if name in _CURVES:
            return name
        raise KeyMaterialError(f"unsupported curve {name!r}")
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        if key.key_size < _RSA_MIN_BITS:
            raise KeyMaterialError(f"RSA key of {key.key_size} bits (at least {_RSA_MIN_BITS})")
        return "rsa"
    raise KeyMaterialError(f"unsupported key type {type(key).__name__}")


def ecdsa_hash(algorithm: str) -> hashes.HashAlgorithm:
    """The hash that ECDSA pairs with a curve (SHA-256/384/512)."""
    return _CURVES[algorithm][1]()


def _spki(key: PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id(key: PublicKey | PrivateKey) -> str:
    """base64url (no padding) of SHA-256 over the DER SubjectPublicKeyInfo of the public key."""
    public = key.public_key() if isinstance(key, _PRIVATE_TYPES) else key
    digest = hashlib.sha256(_spki(public)).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


_PRIVATE_TYPES = (ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey, rsa.RSAPrivateKey)
_PUBLIC_TYPES = (ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey, rsa.RSAPublicKey)


def private_pem(key: PrivateKey) -> bytes:
    """Unencrypted PKCS#8 PEM of a private key (the key store protects it with file mode 0600)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_pem(key: PublicKey | PrivateKey) -> bytes:
    """SubjectPublicKeyInfo PEM of the public half."""
    public = key.public_key() if isinstance(key, _PRIVATE_TYPES) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_private_pem(data: bytes) -> PrivateKey:
    """Parse an unencrypted PEM private key of a supported algorithm."""
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyMaterialError(f"not a usable PEM private key: {exc}") from None
    if not isinstance(key, _PRIVATE_TYPES):
        raise KeyMaterialError(f"unsupported private key type {type(key).__name__}")
    algorithm_of(key)
    return key


def load_public_pem(data: bytes) -> PublicKey:
    """Parse a PEM public key (SubjectPublicKeyInfo) of a supported algorithm."""
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyMaterialError(f"not a usable PEM public key: {exc}") from None
    if not isinstance(key, _PUBLIC_TYPES):
        raise KeyMaterialError(f"unsupported public key type {type(key).__name__}")
    algorithm_of(key)
    return key


@dataclass(frozen=True, slots=True)
class KeyPair:
    """A signing key with its id and algorithm; ``repr`` never shows the private key."""

    private_key: PrivateKey = field(repr=False)
    key_id: str
    algorithm: str
    #: the key's certificate chain as ``x5c`` (base64 DER, leaf first; empty: no certificate)
    chain: tuple[str, ...] = field(default=(), repr=False)

    @classmethod
    def of(cls, private_key: PrivateKey, chain: tuple[str, ...] = ()) -> KeyPair:
        return cls(private_key, key_id(private_key), algorithm_of(private_key), chain)

    @classmethod
    def generate(cls, algorithm: str) -> KeyPair:
        return cls.of(generate(algorithm))

    @property
    def public_key(self) -> PublicKey:
        return self.private_key.public_key()
