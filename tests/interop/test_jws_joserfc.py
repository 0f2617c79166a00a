"""OCPP 2.1 signed messages against an independent JOSE implementation (``joserfc``): JWS it
signs verify with ours, JWS we sign verify with it, RSA and ES256, with and without
certificates. Its strict registry must be told about the OCPP header fields (and our ``iat``,
which is not a registered JWS header parameter: strict peers must allow it, see
docs/signatures.md section 14)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from joserfc import jws
from joserfc.jwk import ECKey, RSAKey
from joserfc.registry import HeaderParameter

from ocppnet.security.certificates import encode_chain, issue_signer, new_ca
from ocppnet.security.jws import sign_jws, verify_jws
from ocppnet.security.keys import KeyPair, private_pem, public_pem
from ocppnet.security.signatures import VerdictStatus
from ocppnet.security.trust import TrustStore

REGISTRY = jws.JWSRegistry(
    header_registry={
        "OCPPAction": HeaderParameter("OCPP action", "str", True),
        "OCPPMessageTypedId": HeaderParameter("OCPP message type id", "int", True),
        "iat": HeaderParameter("issued at (ocppnet)", "int"),
    },
    algorithms=["ES256", "RS256", "RS384"],
)
BOOT = {"reason": "PowerUp", "chargingStation": {"model": "X", "vendorName": "Y"}}


def jose_key(pair: KeyPair, *, private: bool) -> ECKey | RSAKey:
    pem = private_pem(pair.private_key) if private else public_pem(pair.public_key)
    return (RSAKey if pair.algorithm == "rsa" else ECKey).import_key(pem)


@pytest.mark.parametrize(("algorithm", "alg"), [("secp256r1", "ES256"), ("rsa", "RS256"),
                                                ("rsa", "RS384")])
def test_joserfc_signs_we_verify(algorithm: str, alg: str) -> None:
    pair = KeyPair.generate(algorithm)
    header = {"alg": alg, "OCPPAction": "BootNotification", "OCPPMessageTypedId": 2,
              "kid": pair.key_id}
    signed = jws.serialize_json({"protected": header}, json.dumps(BOOT).encode(),
                                jose_key(pair, private=True), registry=REGISTRY)
    trust = TrustStore()
    trust.add(pair.public_key)
    check = verify_jws(dict(signed), action="BootNotification", kind="request", trusted=trust,
                       now=datetime.now(UTC))
    assert check.verdict.status is VerdictStatus.VALID, check.verdict.reason
    assert check.payload == BOOT
    wrong = verify_jws(dict(signed), action="Heartbeat", kind="request", trusted=trust,
                       now=datetime.now(UTC))
    assert wrong.verdict.status is VerdictStatus.INVALID


def test_we_sign_joserfc_verifies_with_certificate_headers() -> None:
    now = datetime.now(UTC)
    ca_key = KeyPair.generate("secp256r1")
    ca = new_ca(ca_key.private_key, name="Owner CA", now=now)
    leaf = KeyPair.generate("secp256r1")
    cert = issue_signer(ca_key.private_key, ca, leaf.public_key, name="grid", now=now)
    certified = KeyPair.of(leaf.private_key, tuple(encode_chain([cert])))
    ours = sign_jws(BOOT, action="BootNotification", message_type_id=2, key=certified, now=now)
    opened = jws.deserialize_json(ours, jose_key(leaf, private=False), registry=REGISTRY)
    assert json.loads(opened.payload) == BOOT
    headers = opened.headers()  # protected and unprotected together
    assert headers["OCPPAction"] == "BootNotification" and headers["OCPPMessageTypedId"] == 2
    assert headers["x5c"] == list(certified.chain) and "x5t#S256" in headers
    assert set(ours["header"]) == {"x5c"}  # the chain rides unprotected, bound by x5t#S256
    tampered = {**ours, "payload": ours["payload"][:-2] + "AA"}
    with pytest.raises(jws.BadSignatureError):
        jws.deserialize_json(tampered, jose_key(leaf, private=False), registry=REGISTRY)
