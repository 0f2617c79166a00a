"""The station's signed end-of-session receipt, pure.

When an ad hoc session ends, the station signs what it delivered (energy, cost, the session's
ids) with the same ECDSA P-256 identity key the phone verified against the QR code's
fingerprint, and sends it over the channel. The phone hands it to the web-payment service,
which settles from it: the phone can pass it on or not, but cannot change it, and the
service needs nothing from the CSMS or the nodes. The signature (r||s, base64url) covers
the RFC 8785 canonical JSON of the receipt without its ``signature`` member.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from ocppnet.security.canonical import canonicalize
from ocppnet.security.keys import KeyPair, key_id
from ocppnet.webpay.channel import ChannelError, b64d, b64e

__all__ = ["RECEIPT_FIELDS", "sign_receipt", "verify_receipt"]

#: what every receipt states
RECEIPT_FIELDS = ("channelId", "stationId", "evseId", "transactionId", "idToken", "energyWh",
                  "cost", "currency", "endedAt")


def sign_receipt(receipt: Mapping[str, Any], identity: KeyPair) -> dict[str, Any]:
    """``receipt`` with the station's ``signature`` added."""
    missing = [name for name in RECEIPT_FIELDS if name not in receipt]
    if missing:
        raise ValueError(f"receipt: missing {', '.join(missing)}")
    private = identity.private_key
    if not isinstance(private, ec.EllipticCurvePrivateKey):
        raise ValueError("receipt: the identity key must be ECDSA P-256")
    body = {k: v for k, v in receipt.items() if k != "signature"}
    r, s = decode_dss_signature(private.sign(canonicalize(body), ec.ECDSA(hashes.SHA256())))
    return {**body, "signature": b64e(r.to_bytes(32, "big") + s.to_bytes(32, "big"))}


def verify_receipt(receipt: Mapping[str, Any], station_key: str,
                   fingerprint: str) -> dict[str, Any]:
    """The receipt's fields if ``station_key`` (DER SPKI, base64url) has ``fingerprint`` and
    signed it; ChannelError otherwise."""
    try:
        public = serialization.load_der_public_key(b64d(station_key, "stationKey"))
    except ValueError:
        raise ChannelError("BadKey", "stationKey: not a public key") from None
    if not isinstance(public, ec.EllipticCurvePublicKey) or key_id(public) != fingerprint:
        raise ChannelError("WrongStationKey",
                           "the receipt's station key does not match the QR code's fingerprint")
    missing = [name for name in (*RECEIPT_FIELDS, "signature") if name not in receipt]
    if missing:
        raise ChannelError("BadMessage", f"receipt: missing {', '.join(missing)}")
    raw = b64d(str(receipt["signature"]), "receipt.signature")
    if len(raw) != 64:
        raise ChannelError("BadSignature", "receipt.signature: not 64 bytes (r||s)")
    body = {k: v for k, v in receipt.items() if k != "signature"}
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public.verify(der, canonicalize(body), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise ChannelError("BadSignature", "the receipt's signature does not verify "
                           "(changed after the station signed it)") from None
    return body
