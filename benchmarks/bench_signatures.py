"""Benchmark: end-to-end sign/verify per algorithm vs raw ``cryptography`` on the same bytes.

"ours" is the whole job: canonicalize the payload, build the signature object, sign; or parse
the signature object, check key trust, timestamp window, signature and replay cache. "raw" is
the bare ``cryptography`` sign/verify of the exact bytes we sign. Same run, same machine;
prints operations/s and the ratio (target: verify >= 80 % of raw for secp256r1). Two more
verify rows: a signature by a key certified by an owner CA (chain in ``x5c``, verifier trusts
only the CA) and an OCPP 2.1 ``<Action>-Signed`` JWS (ES256), each against raw verify.

    python benchmarks/bench_signatures.py [--quick]
"""

from __future__ import annotations

import argparse
import base64
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from ocppnet.security.certificates import ChainVerifier, encode_chain, issue_signer, new_ca
from ocppnet.security.jws import sign_jws, verify_jws
from ocppnet.security.keys import ALGORITHMS, KeyPair, ecdsa_hash
from ocppnet.security.replay import ReplayCache
from ocppnet.security.signatures import (
    canonical_payload,
    context_of,
    sign,
    signed_bytes,
    verify,
)
from ocppnet.security.trust import TrustStore

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
ROUNDS = 5
ACTION, KIND, VERSION = "SetChargingProfile", "request", "2.0.1"
PAYLOAD: dict[str, Any] = {
    "evseId": 0,
    "chargingProfile": {
        "id": 7, "stackLevel": 1,
        "chargingProfilePurpose": "ChargingStationExternalConstraints",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [{
            "id": 1, "startSchedule": "2025-03-01T12:00:00Z", "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0},
                                       {"startPeriod": 900, "limit": 4200.0}],
        }],
    },
}


def _rate(items: list[Any], func: Callable[[Any], object], seconds: float) -> float:
    """Operations per second over ``items`` (cycled), measured for about ``seconds``."""
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        func(items[n % len(items)])
        n += 1
    return n / elapsed


def _raw(key: KeyPair) -> tuple[Callable[[bytes], bytes], Callable[[tuple[bytes, bytes]], None]]:
    priv, pub = key.private_key, key.public_key
    if isinstance(priv, ed25519.Ed25519PrivateKey):
        assert isinstance(pub, ed25519.Ed25519PublicKey)
        return priv.sign, lambda sd: pub.verify(sd[0], sd[1])
    assert isinstance(priv, ec.EllipticCurvePrivateKey)
    assert isinstance(pub, ec.EllipticCurvePublicKey)
    alg = ec.ECDSA(ecdsa_hash(key.algorithm))
    return (lambda d: priv.sign(d, alg)), (lambda sd: pub.verify(sd[0], sd[1], alg))


def bench(algorithm: str, seconds: float) -> tuple[float, float, float, float]:
    key = KeyPair.generate(algorithm)
    trust = TrustStore()
    trust.add(key.public_key)
    # Distinct messages (timestamps 1 ms apart) so that the replay cache accepts every verify.
    msgs = [sign(PAYLOAD, action=ACTION, kind=KIND, version=VERSION, key=key,
                 now=NOW + timedelta(milliseconds=i)) for i in range(200)]
    ctx = context_of(VERSION, ACTION, KIND)
    pairs = [(base64.b64decode(m["signatures"][0]["value"]),
              signed_bytes(ctx, canonical_payload(m), m["signatures"][0])) for m in msgs]
    raw_sign, raw_verify = _raw(key)

    def ours_sign(_: object) -> object:
        return sign(PAYLOAD, action=ACTION, kind=KIND, version=VERSION, key=key, now=NOW)

    caches = [ReplayCache()]

    def ours_verify(msg: dict[str, Any]) -> None:
        if msg is msgs[0]:  # a new pass over the same messages: a new verifier's cache
            caches[0] = ReplayCache()
        [v] = verify(msg, action=ACTION, kind=KIND, version=VERSION, trusted=trust, now=NOW,
                     replay=caches[0])
        assert v.valid, v.reason

    # Interleaved rounds, best of each: other load on the machine hits both sides alike.
    jobs = [([p[1] for p in pairs], ours_sign), ([p[1] for p in pairs], raw_sign),
            (msgs, ours_verify), (pairs, raw_verify)]
    best = [0.0] * len(jobs)
    for _ in range(ROUNDS):
        for i, (items, func) in enumerate(jobs):
            best[i] = max(best[i], _rate(items, func, seconds / ROUNDS))
    return best[0], best[1], best[2], best[3]


def _interleaved(jobs: list[tuple[list[Any], Callable[[Any], object]]],
                 seconds: float) -> list[float]:
    best = [0.0] * len(jobs)
    for _ in range(ROUNDS):
        for i, (items, func) in enumerate(jobs):
            best[i] = max(best[i], _rate(items, func, seconds / ROUNDS))
    return best


def bench_certified(seconds: float) -> tuple[float, float, float]:
    """Verify/s of a secp256r1 signature whose key is certified by an owner CA (the chain
    travels in ``x5c``; the verifier trusts only the CA), the same signature's raw verify, and
    chain verifications/s (first contact with a certificate, uncached)."""
    ca_key = KeyPair.generate("secp256r1")
    ca = new_ca(ca_key.private_key, name="Owner CA", now=NOW)
    leaf_key = KeyPair.generate("secp256r1")
    cert = issue_signer(ca_key.private_key, ca, leaf_key.public_key, name="grid", now=NOW)
    key = KeyPair.of(leaf_key.private_key, tuple(encode_chain([cert])))
    msgs = [sign(PAYLOAD, action=ACTION, kind=KIND, version=VERSION, key=key,
                 now=NOW + timedelta(milliseconds=i)) for i in range(200)]
    trust = TrustStore()
    trust.add_anchor(ca)
    ctx = context_of(VERSION, ACTION, KIND)
    pairs = [(base64.b64decode(m["signatures"][0]["value"]),
              signed_bytes(ctx, canonical_payload(m), m["signatures"][0])) for m in msgs]
    _, raw_verify = _raw(key)
    caches = [ReplayCache()]

    def ours_verify(msg: dict[str, Any]) -> None:
        if msg is msgs[0]:
            caches[0] = ReplayCache()
        [v] = verify(msg, action=ACTION, kind=KIND, version=VERSION, trusted=trust, now=NOW,
                     replay=caches[0])
        assert v.valid, v.reason

    verifier = ChainVerifier([ca])

    def chain(_: object) -> None:
        verifier.verify([cert], now=NOW)

    ours, raw, chains = _interleaved([(msgs, ours_verify), (pairs, raw_verify),
                                      ([None], chain)], seconds)
    return ours, raw, chains


def bench_jws(seconds: float) -> tuple[float, float]:
    """Verify/s of an OCPP 2.1 ``<Action>-Signed`` JWS (ES256: decode, header checks, key
    lookup, replay) and raw ``cryptography`` verify of the same signing input."""
    key = KeyPair.generate("secp256r1")
    trust = TrustStore()
    trust.add(key.public_key)
    # distinct iat (one second apart, all inside the window): distinct signing inputs
    msgs = [sign_jws(PAYLOAD, action=ACTION, message_type_id=2, key=key,
                     now=NOW + timedelta(seconds=i - 100)) for i in range(200)]
    pub = key.public_key
    assert isinstance(pub, ec.EllipticCurvePublicKey)
    alg = ec.ECDSA(hashes.SHA256())

    def raw_item(m: dict[str, str]) -> tuple[bytes, bytes]:
        sig = base64.urlsafe_b64decode(m["signature"] + "==")
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"),
                                   int.from_bytes(sig[32:], "big"))
        return der, f"{m['protected']}.{m['payload']}".encode()

    pairs = [raw_item(m) for m in msgs]
    caches = [ReplayCache()]

    def ours_verify(msg: dict[str, str]) -> None:
        if msg is msgs[0]:
            caches[0] = ReplayCache()
        check = verify_jws(msg, action=ACTION, kind=KIND, trusted=trust, now=NOW,
                           replay=caches[0])
        assert check.verdict.valid, check.verdict.reason

    ours, raw = _interleaved([(msgs, ours_verify),
                              (pairs, lambda sd: pub.verify(sd[0], sd[1], alg))], seconds)
    return ours, raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short run (< 5 s)")
    seconds = 0.2 if parser.parse_args().quick else 1.5
    print(f"{'algorithm':10s} {'sign/s':>9s} {'raw':>9s} {'ratio':>6s}   "
          f"{'verify/s':>9s} {'raw':>9s} {'ratio':>6s}")
    for algorithm in ALGORITHMS:
        s, rs, v, rv = bench(algorithm, seconds)
        print(f"{algorithm:10s} {s:9.0f} {rs:9.0f} {s / rs:6.0%}   "
              f"{v:9.0f} {rv:9.0f} {v / rv:6.0%}")
    v, rv, chains = bench_certified(seconds)
    print(f"{'certified':10s} {'':9s} {'':9s} {'':6s}   {v:9.0f} {rv:9.0f} {v / rv:6.0%}"
          f"   (chain checks/s uncached: {chains:.0f})")
    v, rv = bench_jws(seconds)
    print(f"{'JWS ES256':10s} {'':9s} {'':9s} {'':6s}   {v:9.0f} {rv:9.0f} {v / rv:6.0%}")


if __name__ == "__main__":
    main()
