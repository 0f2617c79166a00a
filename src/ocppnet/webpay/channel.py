"""The end-to-end encrypted channel between the driver's phone and the station, pure.

Handshake (one SecureDataTransfer ``Open`` round trip, forwarded as is by webpay, CSMS, nodes):

1. the phone makes an ephemeral ECDH P-256 key and sends its public point (``clientKey``);
2. the station makes its own ephemeral key (``serverKey``) and signs the transcript
   ``PROTOCOL \\n channelId \\n stationId \\n clientKey \\n serverKey`` (UTF-8) with its
   long-term ECDSA P-256 identity key (``stationKey``, DER SubjectPublicKeyInfo);
3. the phone checks that SHA-256(stationKey) is the fingerprint (``channelKeyId``) the QR
   code carried, then the signature; a man in the middle cannot swap the keys.

Both derive 64 bytes with HKDF-SHA256 (ikm = ECDH secret, salt = SHA-256(transcript),
info = ``PROTOCOL keys``): the first 32 are the AES-256-GCM key phone -> station, the last
32 station -> phone. Each record carries a counter (1, 2, ... per direction); the nonce is a
4-byte direction tag and the 8-byte counter, the associated data names protocol, channel,
direction and counter. A receiver accepts only counters above the last it accepted, so a
replayed or reordered record is refused, and any changed byte fails the GCM tag.

Byte strings on the wire are base64url without padding. The page does the same with
WebCrypto (``ocppnet/webpay/static/channel.js``).
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import orjson
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ocppnet.security.keys import KeyPair, key_id

__all__ = [
    "PROTOCOL",
    "VENDOR_ID",
    "Announcement",
    "ChannelEnd",
    "ChannelError",
    "PhoneHandshake",
    "Record",
    "b64d",
    "b64e",
    "new_channel_id",
    "station_accept",
    "transcript",
]

PROTOCOL: Final = "ocppnet-webpay-channel/1"
#: customData.vendorId of the NotifyWebPaymentStarted that announces a channel
VENDOR_ID: Final = "org.ocppnet.webpay"
Direction = Literal["p2s", "s2p"]
_TAGS: Final[dict[str, bytes]] = {"p2s": b"\x00\x00\x00\x01", "s2p": b"\x00\x00\x00\x02"}
_MAX_COUNTER: Final = 2**64 - 1
_CURVE: Final = ec.SECP256R1()


class ChannelError(ValueError):
    """A handshake or record that must be refused; ``reason`` is a short reason code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64d(text: str, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise ChannelError("BadMessage", f"{what}: not base64url") from None


def _check_id(value: str, what: str) -> None:
    if not value or "\n" in value:
        raise ChannelError("BadMessage", f"{what}: empty or contains a newline")


def transcript(channel_id: str, station_id: str, client_key: str, server_key: str) -> bytes:
    """What the station signs: the channel, the station and both ephemeral keys."""
    for value, what in ((channel_id, "channelId"), (station_id, "stationId"),
                        (client_key, "clientKey"), (server_key, "serverKey")):
        _check_id(value, what)
    return "\n".join((PROTOCOL, channel_id, station_id, client_key, server_key)).encode()


def _point(text: str, what: str) -> ec.EllipticCurvePublicKey:
    raw = b64d(text, what)
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(_CURVE, raw)
    except ValueError:
        raise ChannelError("BadKey", f"{what}: not a P-256 point") from None


def _raw(key: ec.EllipticCurvePublicKey) -> str:
    return b64e(key.public_bytes(serialization.Encoding.X962,
                                 serialization.PublicFormat.UncompressedPoint))


def _derive(private: ec.EllipticCurvePrivateKey, peer: ec.EllipticCurvePublicKey,
            signed: bytes) -> tuple[bytes, bytes]:
    secret = private.exchange(ec.ECDH(), peer)
    okm = HKDF(algorithm=hashes.SHA256(), length=64, salt=hashlib.sha256(signed).digest(),
               info=f"{PROTOCOL} keys".encode()).derive(secret)
    return okm[:32], okm[32:]


@dataclass(frozen=True, slots=True)
class Record:
    """One encrypted message: ``counter`` and ``ciphertext`` (base64url, GCM tag included)."""

    counter: int
    ciphertext: str


@dataclass(slots=True)
class ChannelEnd:
    """One side of an open channel: seals with its sending key, opens with its receiving key."""

    channel_id: str
    sends: Direction
    _send_key: bytes = field(repr=False)
    _recv_key: bytes = field(repr=False)
    sent: int = 0
    received: int = 0
    _sealer: AESGCM = field(init=False, repr=False)
    _opener: AESGCM = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._sealer, self._opener = AESGCM(self._send_key), AESGCM(self._recv_key)

    @property
    def receives(self) -> Direction:
        return "s2p" if self.sends == "p2s" else "p2s"

    def _aad(self, direction: str, counter: int) -> bytes:
        return f"{PROTOCOL}\n{self.channel_id}\n{direction}\n{counter}".encode()

    def seal(self, message: Mapping[str, Any]) -> Record:
        if self.sent >= _MAX_COUNTER:
            raise ChannelError("Exhausted", "counter exhausted: open a new channel")
        try:
            plain = orjson.dumps(dict(message))
        except orjson.JSONEncodeError as exc:
            raise ChannelError("BadMessage", f"message is not JSON: {exc}") from None
        self.sent += 1
        nonce = _TAGS[self.sends] + self.sent.to_bytes(8, "big")
        data = self._sealer.encrypt(nonce, plain, self._aad(self.sends, self.sent))
        return Record(self.sent, b64e(data))

    def open(self, counter: int, ciphertext: str) -> dict[str, Any]:
        """The message of a record; ChannelError for a replayed, reordered or altered one."""
        if not isinstance(counter, int) or not 0 < counter <= _MAX_COUNTER:
            raise ChannelError("BadMessage", f"counter {counter!r} is not in 1..2^64-1")
        if counter <= self.received:
            raise ChannelError(
                "Replayed", f"counter {counter} replayed or out of order "
                f"(last accepted {self.received})")
        nonce = _TAGS[self.receives] + counter.to_bytes(8, "big")
        try:
            plain = self._opener.decrypt(nonce, b64d(ciphertext, "ciphertext"),
                                                   self._aad(self.receives, counter))
        except InvalidTag:
            raise ChannelError("Tampered", f"record {counter} does not authenticate "
                               "(tampered ciphertext or wrong key)") from None
        try:
            message = orjson.loads(plain)
        except orjson.JSONDecodeError:
            raise ChannelError("BadMessage", f"record {counter} is not JSON") from None
        if not isinstance(message, dict):
            raise ChannelError("BadMessage", f"record {counter} is not a JSON object")
        self.received = counter
        return message


@dataclass(frozen=True, slots=True)
class Announcement:
    """The station's answer to ``Open``: its ephemeral key, signed with its identity key."""

    server_key: str
    station_key: str
    signature: str

    def to_wire(self) -> dict[str, str]:
        return {"serverKey": self.server_key, "stationKey": self.station_key,
                "signature": self.signature}


def station_accept(channel_id: str, station_id: str, client_key: str, identity: KeyPair,
                   ephemeral: ec.EllipticCurvePrivateKey | None = None,
                   ) -> tuple[Announcement, ChannelEnd]:
    """The station's side of the handshake (``identity`` is an ECDSA P-256 key)."""
    private = identity.private_key
    if not isinstance(private, ec.EllipticCurvePrivateKey) or private.curve.name != "secp256r1":
        raise ChannelError("BadKey", "the station's channel identity key must be secp256r1")
    peer = _point(client_key, "clientKey")
    mine = ephemeral or ec.generate_private_key(_CURVE)
    server_key = _raw(mine.public_key())
    signed = transcript(channel_id, station_id, client_key, server_key)
    r, s = decode_dss_signature(private.sign(signed, ec.ECDSA(hashes.SHA256())))
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")  # IEEE P1363, as WebCrypto
    spki = private.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
    to_station, to_phone = _derive(mine, peer, signed)
    end = ChannelEnd(channel_id, "s2p", to_phone, to_station)
    return Announcement(server_key, b64e(spki), b64e(signature)), end


class PhoneHandshake:
    """The phone's side (the page does the same in JavaScript; Python for tests and tools)."""

    def __init__(self, channel_id: str, station_id: str,
                 private: ec.EllipticCurvePrivateKey | None = None) -> None:
        _check_id(channel_id, "channelId")
        _check_id(station_id, "stationId")
        self.channel_id, self.station_id = channel_id, station_id
        self._private = private or ec.generate_private_key(_CURVE)
        self.client_key = _raw(self._private.public_key())

    def finish(self, announcement: Mapping[str, Any], fingerprint: str) -> ChannelEnd:
        """Check the announcement against the QR code's fingerprint; the open channel."""
        try:
            server_key = str(announcement["serverKey"])
            station_key = str(announcement["stationKey"])
            signature = b64d(str(announcement["signature"]), "signature")
        except KeyError as exc:
            raise ChannelError("BadMessage", f"announcement: missing {exc.args[0]}") from None
        spki = b64d(station_key, "stationKey")
        try:
            public = serialization.load_der_public_key(spki)
        except ValueError:
            raise ChannelError("BadKey", "stationKey: not a public key") from None
        if not isinstance(public, ec.EllipticCurvePublicKey) or public.curve.name != "secp256r1":
            raise ChannelError("BadKey", "stationKey: not an ECDSA P-256 key")
        if key_id(public) != fingerprint:
            raise ChannelError("WrongStationKey",
                               "the station key does not match the QR code's fingerprint")
        if len(signature) != 64:
            raise ChannelError("BadSignature", "signature: not 64 bytes (r||s)")
        signed = transcript(self.channel_id, self.station_id, self.client_key, server_key)
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                                   int.from_bytes(signature[32:], "big"))
        try:
            public.verify(der, signed, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise ChannelError("BadSignature", "the channel key's signature does not verify "
                               "with the station key of the QR code") from None
        to_station, to_phone = _derive(self._private, _point(server_key, "serverKey"), signed)
        return ChannelEnd(self.channel_id, "p2s", to_station, to_phone)


def new_channel_id() -> str:
    """A random channel id (128 bits)."""
    return b64e(os.urandom(16))
