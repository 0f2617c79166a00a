"""Signer certificates: a station that trusts only the owner CA.

It accepts a command signed by a key the CA certified (the certificate travels in the
signature, ``x5c``), and refuses one from a revoked, expired, foreign or wrongly-used
certificate — in our signature form and in the OCPP 2.1 JWS form alike.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ocppnet.security.certificates import (
    CertificateError,
    ChainVerifier,
    build_crl,
    encode_chain,
    issue_signer,
    new_ca,
)
from ocppnet.security.context import SecurityContext
from ocppnet.security.jws import sign_jws, verify_jws
from ocppnet.security.keys import KeyPair
from ocppnet.security.policy import PolicySet
from ocppnet.security.roles import RoleSet
from ocppnet.security.signatures import VerdictStatus, sign, verify
from ocppnet.security.trust import TrustStore

from .conftest import NOW

RESET = {"type": "Immediate"}


class Pki:
    def __init__(self) -> None:
        self.ca_key = KeyPair.generate("secp256r1")
        self.ca = new_ca(self.ca_key.private_key, name="Owner CA", now=NOW)
        self.grid = self.certified("grid-operator")

    def certified(self, cn: str, **kw: Any) -> KeyPair:
        key = KeyPair.generate("secp256r1")
        cert = issue_signer(self.ca_key.private_key, self.ca, key.public_key, name=cn,
                            now=kw.pop("now", NOW), **kw)
        return KeyPair.of(key.private_key, tuple(encode_chain([cert])))

    def cert_of(self, pair: KeyPair) -> x509.Certificate:
        import base64

        return x509.load_der_x509_certificate(base64.b64decode(pair.chain[0]))

    def station_trust(self) -> TrustStore:
        trust = TrustStore()
        trust.add_anchor(self.ca)
        return trust


@pytest.fixture
def pki() -> Pki:
    return Pki()


def signed(pair: KeyPair, payload: dict[str, Any] = RESET, **kw: Any) -> dict[str, Any]:
    return sign(payload, action="Reset", kind="request", version="2.0.1", key=pair,
                now=kw.get("now", NOW))


def check(trust: TrustStore, payload: dict[str, Any], **kw: Any) -> Any:
    return verify(payload, action="Reset", kind="request", version="2.0.1", trusted=trust,
                  now=kw.get("now", NOW))[0]


def test_certified_key_is_accepted_with_only_the_ca_trusted(pki: Pki) -> None:
    trust = pki.station_trust()
    verdict = check(trust, signed(pki.grid))
    assert verdict.status is VerdictStatus.VALID and verdict.subject == "grid-operator"
    # the chain is remembered: a later signature may leave it out
    bare = signed(KeyPair.of(pki.grid.private_key))
    assert "x5c" not in bare["signatures"][0]
    assert check(trust, bare).valid


def test_revoked_certificate_is_refused_after_the_crl_arrives(pki: Pki) -> None:
    trust = pki.station_trust()
    assert check(trust, signed(pki.grid)).valid
    crl = build_crl(pki.ca_key.private_key, pki.ca,
                    [(pki.cert_of(pki.grid).serial_number, NOW)], now=NOW)
    trust.add_crl(crl)
    verdict = check(trust, signed(pki.grid))
    assert verdict.status is VerdictStatus.UNTRUSTED_KEY and "revoked" in verdict.reason
    assert not check(trust, signed(KeyPair.of(pki.grid.private_key))).valid  # cached too


def test_expired_certificate_is_refused(pki: Pki) -> None:
    old = pki.certified("old-grid", now=NOW - timedelta(days=40), days=30)
    verdict = check(pki.station_trust(), signed(old))
    assert verdict.status is VerdictStatus.UNTRUSTED_KEY
    assert "not valid at validation time" in verdict.reason


def test_certificate_expiring_after_caching_is_refused(pki: Pki) -> None:
    short = pki.certified("short", days=1)
    trust = pki.station_trust()
    assert check(trust, signed(short)).valid
    later = NOW + timedelta(days=2)
    assert check(trust, signed(short, now=later), now=later).status is VerdictStatus.UNTRUSTED_KEY


def test_foreign_ca_is_refused(pki: Pki) -> None:
    other = Pki()
    verdict = check(pki.station_trust(), signed(other.grid))
    assert verdict.status is VerdictStatus.UNTRUSTED_KEY and "grid-operator" in verdict.reason


def test_without_a_ca_a_chain_is_an_unknown_key(pki: Pki) -> None:
    assert check(TrustStore(), signed(pki.grid)).status is VerdictStatus.UNKNOWN_KEY


def _hand_cert(pki: Pki, key: ec.EllipticCurvePrivateKey, *, usage: bool, ca: bool) -> str:
    """A certificate built here with cryptography alone, with or without digitalSignature."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "odd")]))
        .issuer_name(pki.ca.subject).public_key(key.public_key()).serial_number(77)
        .not_valid_before(NOW - timedelta(hours=1)).not_valid_after(NOW + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=usage, content_commitment=False, key_encipherment=not usage,
            data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            pki.ca_key.private_key.public_key()), critical=False)  # type: ignore[arg-type]
    )
    cert = builder.sign(pki.ca_key.private_key, hashes.SHA256())  # type: ignore[arg-type]
    return encode_chain([cert])[0]


@pytest.mark.parametrize(("usage", "ca"), [(False, False), (True, True)])
def test_wrong_key_usage_is_refused(pki: Pki, usage: bool, ca: bool) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pair = KeyPair.of(key, (_hand_cert(pki, key, usage=usage, ca=ca),))
    verdict = check(pki.station_trust(), signed(pair))
    assert verdict.status is VerdictStatus.UNTRUSTED_KEY


def test_key_id_must_match_the_certificate(pki: Pki) -> None:
    impostor = KeyPair.of(KeyPair.generate("secp256r1").private_key, pki.grid.chain)
    verdict = check(pki.station_trust(), signed(impostor))
    assert not verdict.valid and "does not match the certificate" in verdict.reason


def test_crl_of_an_untrusted_issuer_is_refused(pki: Pki) -> None:
    other = Pki()  # same CA name, other key: the CRL is not signed by the trusted one
    crl = build_crl(other.ca_key.private_key, other.ca, [], now=NOW)
    with pytest.raises(CertificateError, match="bad signature"):
        ChainVerifier([pki.ca]).add_crl(crl)
    foreign = new_ca(other.ca_key.private_key, name="Foreign CA", now=NOW)
    with pytest.raises(CertificateError, match="not a trusted CA"):
        ChainVerifier([pki.ca]).add_crl(build_crl(other.ca_key.private_key, foreign, [],
                                                  now=NOW))


def test_stale_crl_fails_closed(pki: Pki) -> None:
    trust = pki.station_trust()
    trust.add_crl(build_crl(pki.ca_key.private_key, pki.ca, [], now=NOW, days=1))
    later = NOW + timedelta(days=3)
    verdict = check(trust, signed(pki.grid, now=later), now=later)
    assert not verdict.valid and "CRL" in verdict.reason


def test_jws_with_x5c_and_thumbprint(pki: Pki) -> None:
    trust = pki.station_trust()
    jws = sign_jws(RESET, action="Reset", message_type_id=2, key=pki.grid, now=NOW)
    first = verify_jws(jws, action="Reset", kind="request", trusted=trust, now=NOW)
    assert first.verdict.valid and first.verdict.subject == "grid-operator"
    thin = sign_jws(RESET, action="Reset", message_type_id=2, key=pki.grid, now=NOW,
                    include_chain=False)  # x5t#S256 only: known from the first message
    assert verify_jws(thin, action="Reset", kind="request", trusted=trust, now=NOW).verdict.valid
    fresh = pki.station_trust()
    assert verify_jws(thin, action="Reset", kind="request", trusted=fresh,
                      now=NOW).verdict.status is VerdictStatus.UNKNOWN_KEY


def test_roles_may_name_certificate_subjects(pki: Pki) -> None:
    ctx = SecurityContext(
        trust=pki.station_trust(),
        policies=PolicySet.from_config({"policies": [{"id": "p", "rules": [
            {"direction": "incoming", "action": "Reset", "require": "role",
             "roles": ["operator"]}]}]}),
        roles=RoleSet.from_config({"roles": [{"name": "operator",
                                              "subjects": ["grid-operator"],
                                              "allow": [{"action": "Reset"}]}]}),
    )
    ok = ctx.check_incoming("Reset", "request", signed(pki.grid), version="2.0.1", now=NOW)
    assert ok.accepted and ok.signer_roles == {"operator"}
    stranger = pki.certified("someone-else")
    refused = ctx.check_incoming("Reset", "request", signed(stranger), version="2.0.1", now=NOW)
    assert not refused.accepted


def test_a_chain_is_verified_once_and_again_only_after_a_change(pki: Pki) -> None:
    class Counting(ChainVerifier):
        __slots__ = ("calls",)

        def verify(self, chain: Any, *, now: Any) -> Any:
            self.calls += 1
            return super().verify(chain, now=now)

    ca = Counting([pki.ca])
    ca.calls = 0
    trust = TrustStore(ca=ca)
    for _ in range(3):
        assert check(trust, signed(pki.grid)).valid
    assert ca.calls == 1
    trust.revoke(KeyPair.generate("ed25519").key_id)  # any change: cached chains re-checked
    for _ in range(3):
        assert check(trust, signed(pki.grid)).valid
    assert ca.calls == 2


def test_an_unprotected_chain_must_be_bound_by_the_protected_thumbprint(pki: Pki) -> None:
    trust = pki.station_trust()
    jws = sign_jws(RESET, action="Reset", message_type_id=2, key=pki.grid, now=NOW)
    assert "x5c" in jws["header"]  # the chain rides in the unprotected header member
    other = pki.certified("someone-else")
    swapped = {**jws, "header": {"x5c": list(other.chain)}}
    swap = verify_jws(swapped, action="Reset", kind="request", trusted=trust, now=NOW).verdict
    assert swap.status is VerdictStatus.MALFORMED and "not the x5c leaf" in swap.reason
    unbound = sign_jws(RESET, action="Reset", message_type_id=2,
                       key=KeyPair.of(pki.grid.private_key), now=NOW)  # kid, no x5t#S256
    unbound["header"] = {"x5c": list(pki.grid.chain)}
    verdict = verify_jws(unbound, action="Reset", kind="request", trusted=trust,
                         now=NOW).verdict
    assert verdict.status is VerdictStatus.MALFORMED and "unprotected x5c" in verdict.reason
