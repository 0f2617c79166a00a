"""AddTrustedKey / RevokeTrustedKey through SecurityContext: only a manage_keys role may send
them; rotation keeps old and new key valid for the overlap; revocation is by key id."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization

from ocppnet.security.certificates import build_crl, encode_chain, issue_signer, new_ca
from ocppnet.security.context import SecurityContext
from ocppnet.security.keys import KeyPair, public_pem
from ocppnet.security.policy import PolicySet
from ocppnet.security.roles import RoleSet
from ocppnet.security.signatures import VerdictStatus, format_timestamp, sign, verify
from ocppnet.security.trust import TrustStore
from ocppnet.validation import validate

from .conftest import NOW

ADMIN, GRID, NEW = (KeyPair.generate("secp256r1") for _ in range(3))


def station() -> SecurityContext:
    trust = TrustStore()
    trust.add(ADMIN.public_key, name="admin")
    trust.add(GRID.public_key, name="grid")
    config: dict[str, Any] = {
        "policies": [{"id": "s", "rules": [
            {"direction": "incoming", "action": "AddTrustedKey", "require": "any_trusted"},
            {"direction": "incoming", "action": "RevokeTrustedKey", "require": "any_trusted"},
            {"direction": "incoming", "action": "Reset", "require": "role",
             "roles": ["grid-operator"]},
        ]}],
        "roles": [
            {"name": "cpo", "keys": [ADMIN.key_id], "permissions": ["manage_keys"]},
            {"name": "grid-operator", "keys": [GRID.key_id], "allow": [{"action": "Reset"}]},
        ],
    }
    return SecurityContext(trust=trust, policies=PolicySet.from_config(config),
                           roles=RoleSet.from_config(config))


def manage(ctx: SecurityContext, action: str, payload: dict[str, Any], signer: KeyPair,
           at: Any = NOW) -> dict[str, Any]:
    assert validate("2.0.1", action, "request", payload) is None
    signed = sign(payload, action=action, kind="request", version="2.0.1", key=signer, now=at)
    decision = ctx.check_incoming(action, "request", signed, version="2.0.1", now=at)
    assert decision.accepted, decision.reason
    response = ctx.handle_management(action, signed, decision, now=at)
    assert validate("2.0.1", action, "response", response) is None
    return response


def reset_by(ctx: SecurityContext, key: KeyPair, at: Any = NOW) -> Any:
    signed = sign({"type": "Immediate"}, action="Reset", kind="request", version="2.0.1",
                  key=key, now=at)
    return ctx.check_incoming("Reset", "request", signed, version="2.0.1", now=at)


def test_revocation_takes_effect_on_the_next_command() -> None:
    ctx = station()
    assert reset_by(ctx, GRID).accepted
    assert manage(ctx, "RevokeTrustedKey", {"keyId": GRID.key_id}, ADMIN) == {
        "status": "Accepted"}
    refused = reset_by(ctx, GRID, NOW + timedelta(seconds=1))
    assert not refused.accepted and "revoked" in refused.reason


def test_only_manage_keys_may_change_trust() -> None:
    ctx = station()
    answer = manage(ctx, "RevokeTrustedKey", {"keyId": ADMIN.key_id}, GRID)
    assert answer["status"] == "Rejected"
    assert answer["statusInfo"]["reasonCode"] == "Unauthorized"
    assert ctx.trust.get(ADMIN.key_id) is not None and not ctx.trust.is_revoked(ADMIN.key_id)


def test_rotation_with_an_overlap_window() -> None:
    ctx = station()
    answer = manage(ctx, "AddTrustedKey", {
        "publicKey": public_pem(NEW.public_key).decode(), "name": "grid-2026",
        "replaces": GRID.key_id, "overlapSeconds": 60}, ADMIN)
    assert answer == {"status": "Accepted", "keyId": NEW.key_id}
    assert ctx.roles.roles["grid-operator"].keys == {GRID.key_id, NEW.key_id}
    during = NOW + timedelta(seconds=30)
    assert reset_by(ctx, GRID, during).accepted and reset_by(ctx, NEW, during).accepted
    after = NOW + timedelta(seconds=90)
    old = reset_by(ctx, GRID, after)
    assert not old.accepted and "not valid after" in old.reason
    assert reset_by(ctx, NEW, after).accepted


def test_planned_revocation_and_bad_requests() -> None:
    ctx = station()
    later = NOW + timedelta(minutes=2)
    manage(ctx, "RevokeTrustedKey", {"keyId": GRID.key_id,
                                     "effectiveAt": format_timestamp(later)}, ADMIN)
    assert reset_by(ctx, GRID, NOW + timedelta(minutes=1)).accepted
    assert not reset_by(ctx, GRID, later + timedelta(seconds=1)).accepted
    bad = manage(ctx, "AddTrustedKey", {"publicKey": "-----BEGIN PUBLIC KEY-----\nx\n"}, ADMIN)
    assert bad["statusInfo"]["reasonCode"] == "InvalidKey"
    unknown = manage(ctx, "AddTrustedKey", {"publicKey": public_pem(NEW.public_key).decode(),
                                            "replaces": "nobody"}, ADMIN)
    assert unknown["statusInfo"]["reasonCode"] == "UnknownKey"


def test_a_ca_installed_remotely_then_a_certified_key_revoked_before_it_is_seen() -> None:
    ctx = station()
    ca_key = KeyPair.generate("secp256r1")
    ca = new_ca(ca_key.private_key, name="DSO CA", now=NOW)
    pem = ca.public_bytes(serialization.Encoding.PEM).decode()
    assert manage(ctx, "AddTrustedKey", {"certificate": pem}, ADMIN) == {"status": "Accepted"}
    holder = KeyPair.generate("secp256r1")
    cert = issue_signer(ca_key.private_key, ca, holder.public_key, name="dso-2", now=NOW)
    certified = KeyPair.of(holder.private_key, tuple(encode_chain([cert])))
    payload = sign({"type": "Immediate"}, action="Reset", kind="request", version="2.0.1",
                   key=certified, now=NOW)
    [ok] = verify(payload, action="Reset", kind="request", version="2.0.1", trusted=ctx.trust,
                  now=NOW)
    assert ok.valid and ok.subject == "dso-2"
    manage(ctx, "RevokeTrustedKey", {"keyId": certified.key_id}, ADMIN)
    again = sign({"type": "OnIdle"}, action="Reset", kind="request", version="2.0.1",
                 key=certified, now=NOW)
    [refused] = verify(again, action="Reset", kind="request", version="2.0.1",
                       trusted=ctx.trust, now=NOW)
    assert refused.status is VerdictStatus.UNTRUSTED_KEY and "revoked" in refused.reason


def test_a_crl_sent_with_add_trusted_key_revokes_what_it_lists() -> None:
    ctx = station()
    ca_key = KeyPair.generate("secp256r1")
    ca = new_ca(ca_key.private_key, name="DSO CA", now=NOW)
    ctx.trust.add_anchor(ca)
    holder = KeyPair.generate("secp256r1")
    cert = issue_signer(ca_key.private_key, ca, holder.public_key, name="dso-3", now=NOW)
    certified = KeyPair.of(holder.private_key, tuple(encode_chain([cert])))

    def verdict() -> Any:
        payload = sign({"type": "Immediate"}, action="Reset", kind="request",
                       version="2.0.1", key=certified, now=NOW)
        return verify(payload, action="Reset", kind="request", version="2.0.1",
                      trusted=ctx.trust, now=NOW)[0]

    assert verdict().valid
    crl = build_crl(ca_key.private_key, ca, [(cert.serial_number, NOW)], now=NOW)
    pem = crl.public_bytes(serialization.Encoding.PEM).decode()
    assert manage(ctx, "AddTrustedKey", {"crl": pem}, ADMIN) == {"status": "Accepted"}
    assert "is revoked" in verdict().reason
    forged = build_crl(KeyPair.generate("secp256r1").private_key, ca, [], now=NOW)
    answer = manage(ctx, "AddTrustedKey", {
        "crl": forged.public_bytes(serialization.Encoding.PEM).decode()}, ADMIN)
    assert answer["statusInfo"]["reasonCode"] == "InvalidKey"
    assert "bad signature" in answer["statusInfo"]["additionalInfo"]
