"""The station's signed receipt: verified against the QR fingerprint, any change refused."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from ocppnet.security.keys import KeyPair
from ocppnet.webpay.channel import ChannelError, b64e
from ocppnet.webpay.receipt import sign_receipt, verify_receipt

STATION = KeyPair.generate("secp256r1")
RECEIPT: dict[str, Any] = {
    "channelId": "c1", "stationId": "CS-1", "evseId": 1, "transactionId": "tx-1",
    "idToken": "ADHOC-1", "energyWh": 1234.5, "cost": 0.49, "currency": "EUR",
    "endedAt": "2026-12-01T10:00:00.000Z"}


def spki(key: KeyPair) -> str:
    return b64e(key.public_key.public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo))


def test_a_signed_receipt_verifies_and_key_order_does_not_matter() -> None:
    signed = sign_receipt(RECEIPT, STATION)
    reordered = dict(reversed(list(signed.items())))
    assert verify_receipt(reordered, spki(STATION), STATION.key_id) == RECEIPT


@pytest.mark.parametrize(("change", "message"), [
    ({"energyWh": 12.0}, "signature does not verify"),
    ({"idToken": "ADHOC-2"}, "signature does not verify"),
    ({"signature": "AAAA"}, "not 64 bytes"),
])
def test_a_changed_receipt_is_refused(change: dict[str, Any], message: str) -> None:
    signed = {**sign_receipt(RECEIPT, STATION), **change}
    with pytest.raises(ChannelError, match=message):
        verify_receipt(signed, spki(STATION), STATION.key_id)


def test_a_receipt_of_another_key_is_refused() -> None:
    other = KeyPair.generate("secp256r1")
    with pytest.raises(ChannelError, match="does not match the QR code's fingerprint"):
        verify_receipt(sign_receipt(RECEIPT, other), spki(other), STATION.key_id)


def test_an_incomplete_receipt_is_neither_signed_nor_accepted() -> None:
    partial = {k: v for k, v in RECEIPT.items() if k != "energyWh"}
    with pytest.raises(ValueError, match="receipt: missing energyWh"):
        sign_receipt(partial, STATION)
    signed = sign_receipt(RECEIPT, STATION)
    del signed["cost"]
    with pytest.raises(ChannelError, match="receipt: missing cost"):
        verify_receipt(signed, spki(STATION), STATION.key_id)
