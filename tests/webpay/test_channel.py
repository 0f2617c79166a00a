"""The phone <-> station channel: handshake, records, and each way a record is refused."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ocppnet.security.keys import KeyPair
from ocppnet.webpay.channel import (
    PROTOCOL,
    ChannelEnd,
    ChannelError,
    PhoneHandshake,
    b64d,
    b64e,
    new_channel_id,
    station_accept,
    transcript,
)

IDENTITY = KeyPair.generate("secp256r1")


def open_pair(identity: KeyPair = IDENTITY) -> tuple[ChannelEnd, ChannelEnd]:
    phone = PhoneHandshake("ch-1", "CS-1")
    announcement, station = station_accept("ch-1", "CS-1", phone.client_key, identity)
    return phone.finish(announcement.to_wire(), identity.key_id), station


def test_records_flow_both_ways_with_counters() -> None:
    phone, station = open_pair()
    first = phone.seal({"type": "poll"})
    second = phone.seal({"type": "stop"})
    assert (first.counter, second.counter) == (1, 2)
    assert station.open(first.counter, first.ciphertext) == {"type": "poll"}
    assert station.open(second.counter, second.ciphertext) == {"type": "stop"}
    reply = station.seal({"power_w": 11000.0, "energy_wh": 12.5})
    assert phone.open(reply.counter, reply.ciphertext) == {"power_w": 11000.0, "energy_wh": 12.5}
    assert "11000" not in reply.ciphertext and "power" not in reply.ciphertext


def test_keys_match_an_independent_derivation() -> None:
    """Recompute the phone->station key from the spec in the module docstring."""
    phone_key = ec.generate_private_key(ec.SECP256R1())
    phone = PhoneHandshake("ch-2", "CS-9", phone_key)
    announcement, station = station_accept("ch-2", "CS-9", phone.client_key, IDENTITY)
    server = ec.EllipticCurvePublicKey.from_encoded_point(
        ec.SECP256R1(), b64d(announcement.server_key, "k"))
    signed = "\n".join((PROTOCOL, "ch-2", "CS-9", phone.client_key,
                        announcement.server_key)).encode()
    assert signed == transcript("ch-2", "CS-9", phone.client_key, announcement.server_key)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(signed)
    okm = HKDF(hashes.SHA256(), 64, digest.finalize(), f"{PROTOCOL} keys".encode()).derive(
        phone_key.exchange(ec.ECDH(), server))
    nonce = b"\x00\x00\x00\x01" + (1).to_bytes(8, "big")
    aad = f"{PROTOCOL}\nch-2\np2s\n1".encode()
    ciphertext = AESGCM(okm[:32]).encrypt(nonce, b'{"type":"poll"}', aad)
    assert station.open(1, b64e(ciphertext)) == {"type": "poll"}


def test_a_replayed_record_is_refused() -> None:
    phone, station = open_pair()
    record = phone.seal({"type": "poll"})
    station.open(record.counter, record.ciphertext)
    with pytest.raises(ChannelError, match="counter 1 replayed or out of order") as info:
        station.open(record.counter, record.ciphertext)
    assert info.value.reason == "Replayed"


def test_reordered_records_are_refused() -> None:
    phone, station = open_pair()
    first, second = phone.seal({"n": 1}), phone.seal({"n": 2})
    assert station.open(second.counter, second.ciphertext) == {"n": 2}
    with pytest.raises(ChannelError, match=r"counter 1 replayed or out of order \(last accepted 2"):
        station.open(first.counter, first.ciphertext)


def test_a_tampered_ciphertext_is_refused_and_does_not_advance_the_counter() -> None:
    phone, station = open_pair()
    record = phone.seal({"type": "stop"})
    raw = bytearray(b64d(record.ciphertext, "c"))
    raw[0] ^= 0x01
    with pytest.raises(ChannelError, match="does not authenticate") as info:
        station.open(record.counter, b64e(bytes(raw)))
    assert info.value.reason == "Tampered"
    assert station.open(record.counter, record.ciphertext) == {"type": "stop"}


def test_a_record_moved_to_another_counter_or_direction_is_refused() -> None:
    phone, station = open_pair()
    record = phone.seal({"type": "stop"})
    with pytest.raises(ChannelError, match="does not authenticate"):
        station.open(record.counter + 1, record.ciphertext)
    with pytest.raises(ChannelError, match="does not authenticate"):
        phone.open(record.counter, record.ciphertext)  # reflected back to the phone


def test_a_station_key_other_than_the_qr_fingerprint_is_refused() -> None:
    impostor = KeyPair.generate("secp256r1")
    phone = PhoneHandshake("ch-1", "CS-1")
    announcement, _ = station_accept("ch-1", "CS-1", phone.client_key, impostor)
    with pytest.raises(ChannelError, match="does not match the QR code's fingerprint") as info:
        phone.finish(announcement.to_wire(), IDENTITY.key_id)
    assert info.value.reason == "WrongStationKey"


def test_a_channel_key_swapped_by_a_man_in_the_middle_is_refused() -> None:
    phone = PhoneHandshake("ch-1", "CS-1")
    announcement, _ = station_accept("ch-1", "CS-1", phone.client_key, IDENTITY)
    forged = dict(announcement.to_wire())
    mitm = ec.generate_private_key(ec.SECP256R1()).public_key()
    forged["serverKey"] = b64e(mitm.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))
    with pytest.raises(ChannelError, match="signature does not verify") as info:
        phone.finish(forged, IDENTITY.key_id)
    assert info.value.reason == "BadSignature"


def test_bad_handshake_input_is_named() -> None:
    with pytest.raises(ChannelError, match="clientKey: not a P-256 point"):
        station_accept("ch", "CS-1", b64e(b"\x04" + b"\x00" * 64), IDENTITY)
    with pytest.raises(ChannelError, match="must be secp256r1"):
        station_accept("ch", "CS-1", PhoneHandshake("ch", "CS-1").client_key,
                       KeyPair.generate("ed25519"))
    with pytest.raises(ChannelError, match="announcement: missing signature"):
        PhoneHandshake("ch", "CS-1").finish({"serverKey": "a", "stationKey": "b"}, "x")
    with pytest.raises(ChannelError, match="channelId: empty or contains a newline"):
        PhoneHandshake("a\nb", "CS-1")
    _phone, station = open_pair()
    with pytest.raises(ChannelError, match="counter 0 is not in"):
        station.open(0, "AAAA")


def test_a_message_that_is_not_json_is_not_sealed() -> None:
    phone, _ = open_pair()
    with pytest.raises(ChannelError, match="message is not JSON"):
        phone.seal({"n": 2**70})
    assert phone.sent == 0


def test_channel_ids_are_random() -> None:
    assert new_channel_id() != new_channel_id() and len(new_channel_id()) == 22
