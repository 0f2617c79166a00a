"""OCPP 2.1 signed messages (Part 4 chapter 7) against JWS built here with ``cryptography`` only.

The helpers below share no code with ``ocppnet.security.jws``: they build and check flattened
JWS objects straight from RFC 7515 (base64url, ``protected.payload`` signing input, raw r||s
for ES256, PKCS#1 v1.5 for RS256/RS384), so a bug common to signer and verifier cannot hide.
Part 4 gives no worked examples of signed messages, so there are no spec vectors to check.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.x509.oid import NameOID

from ocppnet.errors import SecurityError
from ocppnet.security.context import SecurityContext
from ocppnet.security.jws import is_signed, sign_jws, unsigned_action, verify_jws
from ocppnet.security.keys import KeyPair
from ocppnet.security.policy import Outcome, PolicySet
from ocppnet.security.replay import ReplayCache
from ocppnet.security.roles import RoleSet
from ocppnet.security.signatures import VerdictStatus, sign
from ocppnet.security.trust import TrustStore

from .conftest import NOW

RESET = {"type": "Immediate"}


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hand_jws(payload: dict[str, Any], header: dict[str, Any], key: Any,
             *, payload_bytes: bytes | None = None) -> dict[str, str]:
    """A flattened JWS, straight from RFC 7515 section 5.1 / RFC 7518 section 3."""
    protected = b64u(json.dumps(header, separators=(",", ":")).encode())
    body = b64u(payload_bytes if payload_bytes is not None else json.dumps(payload).encode())
    data = f"{protected}.{body}".encode()
    alg = header["alg"]
    if alg == "ES256":
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        digest = hashes.SHA256() if alg == "RS256" else hashes.SHA384()
        raw = key.sign(data, padding.PKCS1v15(), digest)
    return {"protected": protected, "payload": body, "signature": b64u(raw)}


def hand_verify_es256(jws: dict[str, str], public: ec.EllipticCurvePublicKey) -> dict[str, Any]:
    raw = unb64u(jws["signature"])
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, f"{jws['protected']}.{jws['payload']}".encode(),
                  ec.ECDSA(hashes.SHA256()))
    return {"header": json.loads(unb64u(jws["protected"])),
            "payload": json.loads(unb64u(jws["payload"]))}


def self_signed(key: Any, cn: str) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(NOW - timedelta(days=1)).not_valid_after(NOW + timedelta(days=1))
            .sign(key, hashes.SHA256()))


def x5t(cert: x509.Certificate) -> str:
    return b64u(hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest())


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def header(alg: str, action: str = "Reset", mtid: int = 2, **extra: Any) -> dict[str, Any]:
    return {"alg": alg, "OCPPAction": action, "OCPPMessageTypedId": mtid, **extra}


def test_suffix_helpers() -> None:
    assert is_signed("BootNotification-Signed") and not is_signed("-Signed")
    assert unsigned_action("BootNotification-Signed") == "BootNotification"


def test_hand_built_es256_by_kid_verifies(ec_key: ec.EllipticCurvePrivateKey) -> None:
    trust = TrustStore()
    entry = trust.add(ec_key.public_key())
    jws = hand_jws(RESET, header("ES256", kid=entry.key_id), ec_key)
    check = verify_jws(jws, action="Reset", kind="request", trusted=trust, now=NOW)
    assert check.payload == RESET
    assert check.verdict.status is VerdictStatus.VALID and check.verdict.key_id == entry.key_id


@pytest.mark.parametrize("alg", ["RS256", "RS384"])
def test_hand_built_rsa_by_certificate_thumbprint(rsa_key: rsa.RSAPrivateKey, alg: str) -> None:
    cert = self_signed(rsa_key, "plain-2.1-station")
    trust = TrustStore()
    trust.add_certificate(cert)
    jws = hand_jws({"reason": "PowerUp"}, header(alg, "BootNotification", **{
        "x5t#S256": x5t(cert)}), rsa_key)
    check = verify_jws(jws, action="BootNotification", kind="request", trusted=trust, now=NOW)
    assert check.verdict.status is VerdictStatus.VALID, check.verdict.reason
    assert check.verdict.subject == "plain-2.1-station"


def test_our_jws_checks_out_by_hand(ec_key: ec.EllipticCurvePrivateKey) -> None:
    pair = KeyPair.of(ec_key)
    jws = sign_jws(RESET, action="Reset", message_type_id=2, key=pair, now=NOW)
    assert set(jws) == {"protected", "payload", "signature"}
    opened = hand_verify_es256(jws, ec_key.public_key())
    assert opened["payload"] == RESET
    assert opened["header"] == {"alg": "ES256", "OCPPAction": "Reset", "OCPPMessageTypedId": 2,
                                "kid": pair.key_id, "iat": int(NOW.timestamp())}


def test_rsa_pair_signs_rs384_checked_by_hand(rsa_key: rsa.RSAPrivateKey) -> None:
    jws = sign_jws(RESET, action="Reset", message_type_id=2, key=KeyPair.of(rsa_key),
                   rsa_alg="RS384")
    rsa_key.public_key().verify(unb64u(jws["signature"]),
                                f"{jws['protected']}.{jws['payload']}".encode(),
                                padding.PKCS1v15(), hashes.SHA384())


def _tampered(jws: dict[str, str], **change: Any) -> dict[str, str]:
    out = copy.deepcopy(jws)
    payload = json.loads(unb64u(out["payload"]))
    payload.update(change)
    out["payload"] = b64u(json.dumps(payload).encode())
    return out


@pytest.mark.parametrize(("mutate", "status"), [
    (lambda j: _tampered(j, type="OnIdle"), VerdictStatus.INVALID),
    (lambda j: {**j, "signature": j["signature"][:-4] + "AAAA"}, VerdictStatus.INVALID),
    (lambda j: {**j, "protected": "e30"}, VerdictStatus.UNKNOWN_ALGORITHM),  # {}
    (lambda j: {**j, "extra": 1}, VerdictStatus.MALFORMED),
    (lambda j: {**j, "payload": "!!"}, VerdictStatus.MALFORMED),
])
def test_tampering_is_noticed(ec_key: ec.EllipticCurvePrivateKey, mutate: Any,
                              status: VerdictStatus) -> None:
    trust = TrustStore()
    kid = trust.add(ec_key.public_key()).key_id
    jws = mutate(hand_jws(RESET, header("ES256", kid=kid), ec_key))
    assert verify_jws(jws, action="Reset", kind="request", trusted=trust,
                      now=NOW).verdict.status is status


@pytest.mark.parametrize(("hdr", "reason"), [
    ({"OCPPAction": "UnlockConnector"}, "OCPPAction"),
    ({"OCPPMessageTypedId": 3}, "OCPPMessageTypedId"),
    ({"OCPPMessageTypedId": "2"}, "OCPPMessageTypedId"),
    ({"alg": "HS256"}, "unknown JWS alg"),
    ({"alg": "none"}, "unknown JWS alg"),
    ({"crit": ["exp"]}, "crit"),
    ({"kid": "not-a-key"}, "unknown key"),
    ({"iat": int((NOW - timedelta(hours=1)).timestamp())}, "expired"),
    ({"iat": int((NOW + timedelta(hours=1)).timestamp())}, "future"),
])
def test_header_is_bound_to_the_frame(ec_key: ec.EllipticCurvePrivateKey,
                                      hdr: dict[str, Any], reason: str) -> None:
    trust = TrustStore()
    kid = trust.add(ec_key.public_key()).key_id
    h = {**header("ES256", kid=kid), **hdr}
    jws = hand_jws(RESET, {**h, "alg": "ES256"}, ec_key)
    if h["alg"] != "ES256":  # a header claiming another algorithm, signed with ES256
        jws = {**jws, "protected": b64u(json.dumps(h).encode())}
    check = verify_jws(jws, action="Reset", kind="request", trusted=trust, now=NOW)
    assert not check.verdict.valid and reason in check.verdict.reason


def test_es256_header_with_rsa_key_is_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    trust = TrustStore()
    kid = trust.add(rsa_key.public_key()).key_id
    jws = hand_jws(RESET, header("RS256", kid=kid), rsa_key)
    jws = {**jws, "protected": b64u(json.dumps(header("ES256", kid=kid)).encode())}
    verdict = verify_jws(jws, action="Reset", kind="request", trusted=trust, now=NOW).verdict
    assert verdict.status is VerdictStatus.UNKNOWN_ALGORITHM


def test_replayed_jws_is_refused(ec_key: ec.EllipticCurvePrivateKey) -> None:
    trust, replay = TrustStore(), ReplayCache()
    kid = trust.add(ec_key.public_key()).key_id
    jws = hand_jws(RESET, header("ES256", kid=kid), ec_key)
    first = verify_jws(jws, action="Reset", kind="request", trusted=trust, now=NOW,
                       replay=replay)
    again = verify_jws(jws, action="Reset", kind="request", trusted=trust,
                       now=NOW + timedelta(seconds=5), replay=replay)
    assert first.verdict.valid and again.verdict.status is VerdictStatus.REPLAYED


def _context(trust: TrustStore, grid_kid: str) -> SecurityContext:
    policies = PolicySet.from_config({"policies": [{"id": "station", "rules": [
        {"direction": "incoming", "action": "Reset", "require": "any_trusted"},
        {"direction": "incoming", "action": "SetChargingProfile", "require": "role",
         "roles": ["grid-operator"]},
    ]}]})
    roles = RoleSet.from_config({"roles": [{"name": "grid-operator", "keys": [grid_kid],
        "allow": [{"action": "SetChargingProfile", "constraints": [
            {"field": "chargingProfile.chargingSchedule[*].chargingSchedulePeriod[*].limit",
             "op": "ge", "value": 4200}]}]}]})
    return SecurityContext(trust=trust, policies=policies, roles=roles)


def test_both_forms_map_to_the_same_decisions(ec_key: ec.EllipticCurvePrivateKey,
                                              profile: dict[str, Any]) -> None:
    trust = TrustStore()
    kid = trust.add(ec_key.public_key()).key_id
    ctx = _context(trust, kid)
    low = copy.deepcopy(profile)
    low["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][1]["limit"] = 1000
    for body, accepted in ((profile, True), (low, False)):
        jws = hand_jws(body, header("ES256", "SetChargingProfile", kid=kid), ec_key)
        spec = ctx.check_incoming("SetChargingProfile-Signed", "request", jws, version="2.1",
                                  now=NOW)
        ours = ctx.check_incoming(
            "SetChargingProfile", "request",
            sign(body, action="SetChargingProfile", kind="request", version="2.1",
                 key=KeyPair.of(ec_key), now=NOW), version="2.1", now=NOW)
        assert spec.accepted is ours.accepted is accepted
        assert spec.signer_roles == ours.signer_roles == {"grid-operator"}
        assert spec.payload == body and ours.payload is None
        if not accepted:
            assert spec.reason == ours.reason and "violates ge 4200" in spec.reason


def test_tampered_jws_is_refused_with_security_error(ec_key: ec.EllipticCurvePrivateKey) -> None:
    trust = TrustStore()
    kid = trust.add(ec_key.public_key()).key_id
    ctx = _context(trust, kid)
    good = hand_jws(RESET, header("ES256", kid=kid), ec_key)
    assert ctx.check_incoming("Reset-Signed", "request", good, version="2.1", now=NOW).accepted
    bad = _tampered(hand_jws(RESET, header("ES256", kid=kid), ec_key), type="OnIdle")
    decision = ctx.check_incoming("Reset-Signed", "request", bad, version="2.1", now=NOW)
    assert decision.outcome is Outcome.REJECT
    error = decision.error()
    assert isinstance(error, SecurityError) and error.code == "SecurityError"
    assert "invalid signature" in error.description


def test_unreadable_jws_is_rejected_whatever_the_policy() -> None:
    ctx = SecurityContext(trust=TrustStore())
    decision = ctx.check_incoming("Heartbeat-Signed", "request", {"payload": 1}, version="2.1",
                                  now=NOW)
    assert decision.outcome is Outcome.REJECT and "malformed" in decision.reason


def test_seal_picks_a_jws_capable_key() -> None:
    ed, p256 = KeyPair.generate("ed25519"), KeyPair.generate("secp256r1")
    ctx = SecurityContext(trust=TrustStore(), signing_keys={"ed": ed, "p256": p256})
    jws = ctx.seal("Reset", "response", {"status": "Accepted"}, now=NOW)
    head = json.loads(unb64u(jws["protected"]))
    assert head["kid"] == p256.key_id and head["OCPPMessageTypedId"] == 3
    with pytest.raises(SecurityError, match="no ES256/RSA"):
        SecurityContext(trust=TrustStore(), signing_keys=[ed]).seal(
            "Reset", "response", {}, now=datetime.now(UTC))
