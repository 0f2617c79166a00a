"""Sign/verify: valid (multi-)signed messages and every rejection reason."""

from __future__ import annotations

import base64
import copy
from datetime import timedelta
from typing import Any

import pytest

from ocppnet.security.keys import ALGORITHMS, KeyPair
from ocppnet.security.replay import ReplayCache
from ocppnet.security.signatures import (
    SignatureVerdict,
    VerdictStatus,
    canonical_payload,
    context_of,
    sign,
    signed_bytes,
    verify,
)
from ocppnet.security.trust import TrustStore

from .conftest import NOW

ACTION, KIND, VERSION = "SetChargingProfile", "request", "2.0.1"


def _sign(payload: dict[str, Any], key: KeyPair, **kw: Any) -> dict[str, Any]:
    args: dict[str, Any] = {"action": ACTION, "kind": KIND, "version": VERSION, "now": NOW}
    args.update(kw)
    return sign(payload, key=key, **args)


def _verify(payload: dict[str, Any], trust: TrustStore, **kw: Any) -> list[SignatureVerdict]:
    args: dict[str, Any] = {"action": ACTION, "kind": KIND, "version": VERSION, "now": NOW,
                            "replay": ReplayCache()}
    args.update(kw)
    return verify(payload, trusted=trust, **args)


def _trust(*pairs: KeyPair) -> TrustStore:
    trust = TrustStore()
    for p in pairs:
        trust.add(p.public_key)
    return trust


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_each_algorithm_signs_and_verifies(keys: dict[str, KeyPair], profile: dict[str, Any],
                                           algorithm: str) -> None:
    key = keys[algorithm]
    signed = _sign(profile, key, name="grid", description="peak shaving")
    sig = signed["signatures"][0]
    assert sig["keyId"] == key.key_id and sig["algorithm"] == algorithm
    assert sig["signingMethod"] == "json" and sig["encodingMethod"] == "base64"
    assert sig["timestamp"] == "2025-03-01T12:00:00.000Z"
    assert profile.get("signatures") is None  # the input is not modified
    [verdict] = _verify(signed, _trust(key))
    assert verdict.valid and verdict.key_id == key.key_id and verdict.name == "grid"


def test_multi_signed_message_verifies_in_any_order(keys: dict[str, KeyPair],
                                                    profile: dict[str, Any]) -> None:
    origin, node = keys["secp256r1"], keys["ed25519"]
    signed = _sign(profile, origin)
    counter = _sign(signed, node, now=NOW + timedelta(seconds=2))
    assert [s["keyId"] for s in counter["signatures"]] == [origin.key_id, node.key_id]
    assert all(v.valid for v in _verify(counter, _trust(origin, node)))
    swapped = {**counter, "signatures": counter["signatures"][::-1]}
    assert all(v.valid for v in _verify(swapped, _trust(origin, node)))
    stripped = {**counter, "signatures": counter["signatures"][1:]}
    assert [v.valid for v in _verify(stripped, _trust(origin, node))] == [True]


def test_payload_key_order_does_not_matter(keys: dict[str, KeyPair],
                                           profile: dict[str, Any]) -> None:
    signed = _sign(profile, keys["secp384r1"])
    reordered = dict(reversed(list(signed.items())))
    assert _verify(reordered, _trust(keys["secp384r1"]))[0].valid


def test_unsigned_payload_has_no_verdicts(profile: dict[str, Any]) -> None:
    assert _verify(profile, TrustStore()) == []


def _status(verdicts: list[SignatureVerdict]) -> tuple[VerdictStatus, str]:
    [v] = verdicts
    assert not v.valid
    return v.status, v.reason


def test_tampered_payload(keys: dict[str, KeyPair], profile: dict[str, Any]) -> None:
    signed = _sign(profile, keys["secp256r1"])
    signed["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][1]["limit"] = 1.0
    status, reason = _status(_verify(signed, _trust(keys["secp256r1"])))
    assert status is VerdictStatus.INVALID
    assert reason == "invalid signature: payload, action or signature metadata changed"


@pytest.mark.parametrize(("action", "kind", "version"), [
    ("SetNetworkProfile", "request", "2.0.1"),
    ("SetChargingProfile", "response", "2.0.1"),
    ("SetChargingProfile", "request", "2.1"),
])
def test_tampered_context(keys: dict[str, KeyPair], profile: dict[str, Any], action: str,
                          kind: str, version: str) -> None:
    signed = _sign(profile, keys["ed25519"])
    verdicts = _verify(signed, _trust(keys["ed25519"]), action=action, kind=kind, version=version)
    assert _status(verdicts)[0] is VerdictStatus.INVALID


@pytest.mark.parametrize(("field", "value"), [
    ("timestamp", "2025-03-01T12:00:01.000Z"), ("name", "someone else"),
])
def test_tampered_signature_metadata(keys: dict[str, KeyPair], profile: dict[str, Any],
                                     field: str, value: str) -> None:
    signed = _sign(profile, keys["secp256r1"], name="grid")
    signed["signatures"][0][field] = value
    assert _status(_verify(signed, _trust(keys["secp256r1"])))[0] is VerdictStatus.INVALID


def test_extra_signature_member_is_covered(keys: dict[str, KeyPair],
                                           profile: dict[str, Any]) -> None:
    signed = _sign(profile, keys["ed25519"])
    signed["signatures"][0]["customData"] = {"vendorId": "x"}
    assert _status(_verify(signed, _trust(keys["ed25519"])))[0] is VerdictStatus.INVALID


def test_unknown_key(keys: dict[str, KeyPair], profile: dict[str, Any]) -> None:
    signed = _sign(profile, keys["secp256r1"])
    status, reason = _status(_verify(signed, _trust(keys["ed25519"])))
    assert status is VerdictStatus.UNKNOWN_KEY and reason == "unknown key: not in the trust store"


def test_key_carried_in_message_is_never_used(keys: dict[str, KeyPair],
                                              profile: dict[str, Any]) -> None:
    attacker = KeyPair.generate("secp256r1")
    signed = _sign(profile, attacker)
    signed["signatures"][0]["publicKey"] = "whatever"
    assert _status(_verify(signed, _trust(keys["secp256r1"])))[0] is VerdictStatus.UNKNOWN_KEY


def test_revoked_key_is_untrusted(keys: dict[str, KeyPair], profile: dict[str, Any]) -> None:
    trust = _trust(keys["secp256r1"])
    trust.revoke(keys["secp256r1"].key_id)
    status, reason = _status(_verify(_sign(profile, keys["secp256r1"]), trust))
    assert status is VerdictStatus.UNTRUSTED_KEY and reason == "untrusted key: revoked"


def test_key_outside_validity_is_untrusted(keys: dict[str, KeyPair],
                                           profile: dict[str, Any]) -> None:
    trust = TrustStore()
    trust.add(keys["ed25519"].public_key, not_after=NOW - timedelta(days=1))
    status, reason = _status(_verify(_sign(profile, keys["ed25519"]), trust))
    assert status is VerdictStatus.UNTRUSTED_KEY and reason.startswith(
        "untrusted key: not valid after 2025-02-28")


def test_expired_and_future_timestamps(keys: dict[str, KeyPair], profile: dict[str, Any]) -> None:
    key, trust = keys["secp256r1"], _trust(keys["secp256r1"])
    old = _sign(profile, key, now=NOW - timedelta(seconds=301))
    status, reason = _status(_verify(old, trust))
    assert status is VerdictStatus.EXPIRED
    assert reason == "expired: signed 301 s ago, window is 300 s"
    future = _sign(profile, key, now=NOW + timedelta(seconds=400))
    status, reason = _status(_verify(future, trust))
    assert status is VerdictStatus.FUTURE
    assert reason == "timestamp in the future by 400 s, window is 300 s"
    edge = _sign(profile, key, now=NOW - timedelta(seconds=300))
    assert _verify(edge, trust)[0].valid
    assert _verify(old, trust, replay=ReplayCache(window=600))[0].valid


def test_replayed_signature(keys: dict[str, KeyPair], profile: dict[str, Any]) -> None:
    key, trust, cache = keys["ed25519"], _trust(keys["ed25519"]), ReplayCache()
    signed = _sign(profile, key)
    assert _verify(signed, trust, replay=cache)[0].valid
    status, reason = _status(_verify(copy.deepcopy(signed), trust, replay=cache,
                                     now=NOW + timedelta(seconds=10)))
    assert status is VerdictStatus.REPLAYED
    assert reason == "replayed: signature already seen inside the window"


def test_malleated_ecdsa_signature_is_still_a_replay(keys: dict[str, KeyPair],
                                                     profile: dict[str, Any]) -> None:
    from cryptography.hazmat.primitives.asymmetric.utils import (
        decode_dss_signature,
        encode_dss_signature,
    )

    key, trust, cache = keys["secp256r1"], _trust(keys["secp256r1"]), ReplayCache()
    signed = _sign(profile, key)
    assert _verify(signed, trust, replay=cache)[0].valid
    r, s = decode_dss_signature(base64.b64decode(signed["signatures"][0]["value"]))
    n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    twin = copy.deepcopy(signed)
    twin["signatures"][0]["value"] = base64.b64encode(encode_dss_signature(r, n - s)).decode()
    assert _verify(twin, trust)[0].valid  # a different value that verifies...
    assert _status(_verify(twin, trust, replay=cache))[0] is VerdictStatus.REPLAYED  # ...caught


def test_failed_signature_is_not_remembered(keys: dict[str, KeyPair],
                                            profile: dict[str, Any]) -> None:
    key, trust, cache = keys["ed25519"], _trust(keys["ed25519"]), ReplayCache()
    signed = _sign(profile, key)
    forged = copy.deepcopy(signed)
    forged["signatures"][0]["value"] = base64.b64encode(b"\x00" * 64).decode()
    assert _status(_verify(forged, trust, replay=cache))[0] is VerdictStatus.INVALID
    assert _verify(signed, trust, replay=cache)[0].valid


@pytest.mark.parametrize(("field", "value", "status", "reason"), [
    ("algorithm", "secp256k1", VerdictStatus.UNKNOWN_ALGORITHM, "unknown algorithm 'secp256k1'"),
    ("algorithm", "ed25519", VerdictStatus.UNKNOWN_ALGORITHM,
     "algorithm 'ed25519' does not match the key (secp256r1)"),
    ("signingMethod", "binary", VerdictStatus.UNKNOWN_ALGORITHM, "unknown signingMethod 'binary'"),
    ("encodingMethod", "hex", VerdictStatus.UNKNOWN_ALGORITHM, "unknown encodingMethod 'hex'"),
    ("value", "not base64!", VerdictStatus.MALFORMED, "malformed: 'value' is not valid base64"),
    ("value", "QUJD=", VerdictStatus.MALFORMED, "malformed: 'value' is not valid base64"),
    ("value", "", VerdictStatus.MALFORMED, "malformed: 'value' is empty"),
    ("value", 12, VerdictStatus.MALFORMED, "malformed: field 'value' must be a string, not int"),
    ("keyId", None, VerdictStatus.MALFORMED,
     "malformed: field 'keyId' must be a string, not NoneType"),
    ("timestamp", "yesterday", VerdictStatus.MALFORMED,
     "malformed: 'timestamp' is not an RFC 3339 date-time with offset"),
    ("timestamp", "2025-03-01T12:00:00", VerdictStatus.MALFORMED,
     "malformed: 'timestamp' is not an RFC 3339 date-time with offset"),
    ("name", ["x"], VerdictStatus.MALFORMED, "malformed: field 'name' must be a string, not list"),
])
def test_bad_signature_fields(keys: dict[str, KeyPair], profile: dict[str, Any], field: str,
                              value: Any, status: VerdictStatus, reason: str) -> None:
    signed = _sign(profile, keys["secp256r1"])
    signed["signatures"][0][field] = value
    assert _status(_verify(signed, _trust(keys["secp256r1"]))) == (status, reason)


@pytest.mark.parametrize("field", ["keyId", "value", "algorithm", "signingMethod",
                                   "encodingMethod", "timestamp"])
def test_missing_fields(keys: dict[str, KeyPair], profile: dict[str, Any], field: str) -> None:
    signed = _sign(profile, keys["ed25519"])
    del signed["signatures"][0][field]
    assert _status(_verify(signed, _trust(keys["ed25519"]))) == (
        VerdictStatus.MALFORMED, f"malformed: missing field {field!r}")


def test_signature_container_shapes(keys: dict[str, KeyPair], profile: dict[str, Any]) -> None:
    trust = _trust(keys["ed25519"])
    assert _status(_verify({**profile, "signatures": {"a": 1}}, trust)) == (
        VerdictStatus.MALFORMED, "malformed: 'signatures' is not an array")
    assert _status(_verify({**profile, "signatures": ["x"]}, trust)) == (
        VerdictStatus.MALFORMED, "malformed: signature is not an object")


def test_payload_without_canonical_form(keys: dict[str, KeyPair],
                                        profile: dict[str, Any]) -> None:
    signed = _sign(profile, keys["ed25519"])
    signed["evseId"] = 2**60
    status, reason = _status(_verify(signed, _trust(keys["ed25519"])))
    assert status is VerdictStatus.MALFORMED and reason.startswith(
        "malformed: payload has no canonical form")


def test_signed_bytes_are_the_jcs_of_the_envelope(keys: dict[str, KeyPair],
                                                  profile: dict[str, Any]) -> None:
    from ocppnet.security.canonical import canonicalize

    signed = _sign(profile, keys["ed25519"], name="n")
    sig = signed["signatures"][0]
    meta = {k: v for k, v in sig.items() if k != "value"}
    expected = canonicalize({"@context": "2.0.1/SetChargingProfileRequest", "payload": profile,
                             "signature": meta})
    assert signed_bytes(context_of(VERSION, ACTION, KIND), canonical_payload(signed), sig) == (
        expected)
    assert context_of("ocpp2.0.1", "Reset", "response") == "2.0.1/ResetResponse"
