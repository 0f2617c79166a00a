"""Web payments (C25): the cost of the encrypted channel and of checking a QR code's TOTP.

* one channel record sealed and opened (JSON + AES-256-GCM + counter checks), versus bare
  ``cryptography`` AESGCM encrypt + decrypt of the same bytes;
* one TOTP verification (previous/current/next slot, constant-time compares), versus one
  bare HMAC-SHA256.
CPU-bound, one core, no network.
"""

from __future__ import annotations

import hashlib
import hmac
import os

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from benchmarks.bench_codec import rate
from benchmarks.report import Row
from ocppnet.security.keys import KeyPair
from ocppnet.webpay.channel import PhoneHandshake, station_accept
from ocppnet.webpay.totp import TotpSettings, totp, verify

STATUS = {"type": "status", "state": "Charging", "evseId": 1, "transactionId": "7c1e0b7a",
          "powerW": 10994.2, "energyWh": 1234.5, "cost": 0.48, "currency": "EUR"}


def run(quick: bool) -> list[Row]:
    seconds = 0.2 if quick else 2.0
    identity = KeyPair.generate("secp256r1")
    phone = PhoneHandshake("bench", "CS-1")
    announcement, station = station_accept("bench", "CS-1", phone.client_key, identity)
    end = phone.finish(announcement.to_wire(), identity.key_id)

    def record() -> None:
        sealed = station.seal(STATUS)
        end.open(sealed.counter, sealed.ciphertext)

    key, nonce, plain = AESGCM(os.urandom(32)), os.urandom(12), orjson.dumps(STATUS)

    def raw() -> None:
        key.decrypt(nonce, key.encrypt(nonce, plain, b"aad"), b"aad")

    settings = TotpSettings("a-shared-secret-of-a-station")
    now = 1_800_000_000.0
    code = totp(settings, now)
    secret = settings.shared_secret.encode()
    slot = int(now // 30).to_bytes(8, "big")
    return [
        Row("webpay", "channel record seal+open/s", "records/s", rate(record, seconds),
            rate(raw, seconds), "bare AES-GCM"),
        Row("webpay", "TOTP verify/s", "ops/s", rate(lambda: verify(settings, code, now),
                                                     seconds),
            rate(lambda: hmac.new(secret, slot, hashlib.sha256).digest(), seconds),
            "one HMAC-SHA256"),
    ]
