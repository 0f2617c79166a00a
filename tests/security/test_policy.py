"""Policies and the SecurityContext: outgoing signing, incoming decisions, remote management."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from ocppnet.errors import ConfigError, SecurityError
from ocppnet.security.config import parse_text
from ocppnet.security.context import SecurityContext
from ocppnet.security.keys import KeyPair
from ocppnet.security.policy import Outcome, PolicySet
from ocppnet.security.roles import RoleSet
from ocppnet.security.trust import TrustStore

from .conftest import NOW

V = "2.0.1"


@pytest.fixture
def grid() -> KeyPair:
    return KeyPair.generate("secp256r1")


@pytest.fixture
def admin() -> KeyPair:
    return KeyPair.generate("ed25519")


@pytest.fixture
def station_key() -> KeyPair:
    return KeyPair.generate("ed25519")


def _config(grid: KeyPair, admin: KeyPair) -> dict[str, Any]:
    return {
        "policies": [{"id": "station", "rules": [
            {"direction": "incoming", "action": "SetChargingProfile", "kind": "request",
             "require": "role", "roles": ["grid-operator"]},
            {"direction": "incoming", "action": "Reset", "require": "all_listed",
             "keys": [admin.key_id], "on_failure": "drop"},
            {"direction": "incoming", "action": "DataTransfer", "require": "any_trusted",
             "on_failure": "accept_and_log"},
            {"direction": "incoming", "action": "*", "kind": "request",
             "require": "any_trusted", "authorize": True},
            {"direction": "incoming", "action": "Heartbeat", "require": "none"},
            {"direction": "outgoing", "action": "*", "kind": "response", "sign_with": ["station"]},
        ]}],
        "roles": [
            {"name": "grid-operator", "keys": [grid.key_id], "allow": [{
                "action": "SetChargingProfile",
                "constraints": [{"field": "chargingProfile.chargingSchedule[*]"
                                          ".chargingSchedulePeriod[*].limit",
                                 "op": "ge", "value": 4200}]}]},
            {"name": "admin", "keys": [admin.key_id],
             "permissions": ["manage_policies", "manage_roles"],
             "allow": [{"action": "*"}]},
        ],
    }


@pytest.fixture
def station(grid: KeyPair, admin: KeyPair, station_key: KeyPair) -> SecurityContext:
    trust = TrustStore()
    for k in (grid, admin, station_key):
        trust.add(k.public_key)
    cfg = _config(grid, admin)
    return SecurityContext(trust=trust, signing_keys={"station": station_key},
                           policies=PolicySet.from_config(cfg), roles=RoleSet.from_config(cfg))


def _signer(key: KeyPair) -> SecurityContext:
    return SecurityContext(trust=TrustStore(), signing_keys=[key])


def _signed(key: KeyPair, action: str, payload: dict[str, Any], kind: str = "request",
            seconds: int = 0) -> dict[str, Any]:
    return _signer(key).sign_with([key.key_id], action, kind, payload, version=V,
                                  now=NOW + timedelta(seconds=seconds))


def test_grid_operator_profile_is_accepted(station: SecurityContext, grid: KeyPair,
                                           profile: dict[str, Any]) -> None:
    d = station.check_incoming("SetChargingProfile", "request",
                               _signed(grid, "SetChargingProfile", profile), version=V, now=NOW)
    assert d.outcome is Outcome.ACCEPT and d.signer_roles == {"grid-operator"}
    assert [v.valid for v in d.verdicts] == [True]


def test_modified_on_the_way_is_rejected_with_security_error(
    station: SecurityContext, grid: KeyPair, profile: dict[str, Any]
) -> None:
    msg = _signed(grid, "SetChargingProfile", profile)
    msg["evseId"] = 2
    d = station.check_incoming("SetChargingProfile", "request", msg, version=V, now=NOW)
    assert d.outcome is Outcome.REJECT
    assert d.reason == ("SetChargingProfileRequest: signature 0: invalid signature: payload, "
                        "action or signature metadata changed")
    err = d.error()
    assert isinstance(err, SecurityError) and err.code == "SecurityError"


def test_outside_the_role_is_rejected(station: SecurityContext, grid: KeyPair,
                                      profile: dict[str, Any]) -> None:
    profile["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"] = 100
    d = station.check_incoming("SetChargingProfile", "request",
                               _signed(grid, "SetChargingProfile", profile), version=V, now=NOW)
    assert d.outcome is Outcome.REJECT and "limit: 100 violates ge 4200" in d.reason
    d = station.check_incoming("ChangeAvailability", "request",
                               _signed(grid, "ChangeAvailability", {"operationalStatus": "x"}),
                               version=V, now=NOW)
    assert d.outcome is Outcome.REJECT
    assert d.reason == "ChangeAvailability is not allowed for role(s) grid-operator"


def test_unsigned_and_wrong_role(station: SecurityContext, admin: KeyPair,
                                 profile: dict[str, Any]) -> None:
    d = station.check_incoming("SetChargingProfile", "request", profile, version=V, now=NOW)
    assert d.outcome is Outcome.REJECT
    assert d.reason == "SetChargingProfileRequest requires a signature by role grid-operator " \
                       "(unsigned)"
    d = station.check_incoming("SetChargingProfile", "request",
                               _signed(admin, "SetChargingProfile", profile), version=V, now=NOW)
    assert d.outcome is Outcome.REJECT and "requires a signature by role grid-operator" in d.reason


def test_replayed_message_is_rejected(station: SecurityContext, grid: KeyPair,
                                      profile: dict[str, Any]) -> None:
    msg = _signed(grid, "SetChargingProfile", profile)
    assert station.check_incoming("SetChargingProfile", "request", msg, version=V,
                                  now=NOW).accepted
    d = station.check_incoming("SetChargingProfile", "request", copy.deepcopy(msg), version=V,
                               now=NOW + timedelta(seconds=5))
    assert d.outcome is Outcome.REJECT and "replayed" in d.reason


def test_all_listed_drop_and_accept_and_log(station: SecurityContext, admin: KeyPair,
                                            grid: KeyPair) -> None:
    reset = {"type": "Immediate"}
    assert station.check_incoming("Reset", "request", _signed(admin, "Reset", reset),
                                  version=V, now=NOW).accepted
    d = station.check_incoming("Reset", "request", _signed(grid, "Reset", reset, seconds=1),
                               version=V, now=NOW)
    assert d.outcome is Outcome.DROP and d.reason.startswith(
        f"ResetRequest requires signatures by {admin.key_id}")
    d = station.check_incoming("DataTransfer", "request", {"vendorId": "x"}, version=V, now=NOW)
    assert d.accepted and d.logged_failure and "requires a signature by a trusted key" in d.reason


def test_unknown_countersignature_is_ignored(station: SecurityContext, grid: KeyPair,
                                             profile: dict[str, Any]) -> None:
    stranger = KeyPair.generate("secp384r1")
    msg = _signed(stranger, "SetChargingProfile", _signed(grid, "SetChargingProfile", profile))
    d = station.check_incoming("SetChargingProfile", "request", msg, version=V, now=NOW)
    assert d.accepted and [v.status for v in d.verdicts] == ["valid", "unknown_key"]


def test_no_rule_or_none_accepts(station: SecurityContext) -> None:
    assert station.check_incoming("Heartbeat", "request", {}, version=V, now=NOW).accepted
    assert station.check_incoming("BootNotification", "response", {}, version=V,
                                  now=NOW).accepted


def test_sign_outgoing_follows_the_policy(station: SecurityContext, station_key: KeyPair) -> None:
    out = station.sign_outgoing("Reset", "response", {"status": "Accepted"}, version=V, now=NOW)
    assert [s["keyId"] for s in out["signatures"]] == [station_key.key_id]
    plain = station.sign_outgoing("Heartbeat", "request", {}, version=V, now=NOW)
    assert plain == {}
    with pytest.raises(SecurityError, match="no signing key 'ghost'"):
        station.sign_with(["ghost"], "Reset", "request", {}, version=V, now=NOW)


def test_most_specific_rule_wins_and_later_policy_overrides() -> None:
    cfg = {"policies": [
        {"id": "a", "rules": [
            {"direction": "incoming", "action": "*", "require": "any_trusted"},
            {"direction": "incoming", "action": "Reset", "kind": "*", "require": "none"}]},
        {"id": "b", "rules": [
            {"direction": "incoming", "action": "Reset", "require": "any_trusted"}]},
    ]}
    policies = PolicySet.from_config(cfg)
    rule = policies.rule_for("Reset", "request", "incoming")
    assert rule is not None and rule.require == "any_trusted"
    rule = policies.without("b").rule_for("Reset", "request", "incoming")
    assert rule is not None and rule.require == "none"
    assert policies.rule_for("Reset", "request", "outgoing") is None


@pytest.mark.parametrize(("rule", "message"), [
    ({"action": "X"}, "p: policies[0].rules[0].direction: missing"),
    ({"direction": "sideways"},
     "p: policies[0].rules[0].direction: input should be 'incoming' or 'outgoing'"),
    ({"direction": "incoming", "require": "all_listed"},
     "p: policies[0].rules[0].keys: all_listed needs at least one key id"),
    ({"direction": "incoming", "require": "role"},
     "p: policies[0].rules[0].roles: require = 'role' needs at least one role"),
    ({"direction": "incoming", "on_failure": "explode"},
     "p: policies[0].rules[0].on_failure: input should be 'reject', 'drop' or"),
    ({"direction": "incoming", "requires": "none"},
     "p: policies[0].rules[0].requires: unknown key"),
])
def test_policy_config_errors_name_the_key(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        PolicySet.from_config({"policies": [{"id": "x", "rules": [rule]}]}, source="p")
    assert err.value.description.startswith(message)


def test_policy_from_toml() -> None:
    text = '[[policies]]\nid = "d"\n[[policies.rules]]\ndirection = "outgoing"\n' \
           'sign_with = ["node"]\n'
    policies = PolicySet.from_config(parse_text(text, source="site.toml"))
    rule = policies.rule_for("Anything", "request", "outgoing")
    assert rule is not None and rule.sign_with == ("node",)


# --- remote management -------------------------------------------------------------------


def _manage(station: SecurityContext, key: KeyPair, action: str, payload: dict[str, Any],
            seconds: int = 0) -> dict[str, Any]:
    msg = _signed(key, action, payload, seconds=seconds)
    decision = station.check_incoming(action, "request", msg, version=V, now=NOW)
    return station.handle_management(action, msg, decision)


def test_add_and_delete_signature_policy(station: SecurityContext, admin: KeyPair) -> None:
    policy = {"id": "strict-heartbeat", "rules": [
        {"direction": "incoming", "action": "Heartbeat", "kind": "request",
         "require": "any_trusted"}]}
    assert _manage(station, admin, "AddSignaturePolicy", {"policy": policy}) == {
        "status": "Accepted"}
    assert not station.check_incoming("Heartbeat", "request", {}, version=V, now=NOW).accepted
    assert _manage(station, admin, "DeleteSignaturePolicy", {"id": "strict-heartbeat"},
                   seconds=1) == {"status": "Accepted"}
    assert station.check_incoming("Heartbeat", "request", {}, version=V, now=NOW).accepted
    missing = _manage(station, admin, "DeleteSignaturePolicy", {"id": "nope"}, seconds=2)
    assert missing["statusInfo"]["reasonCode"] == "UnknownPolicy"
    bad = _manage(station, admin, "AddSignaturePolicy", {"policy": {"id": "x", "rules": [{}]}},
                  seconds=3)
    assert bad["status"] == "Rejected" and bad["statusInfo"]["reasonCode"] == "InvalidPolicy"
    assert bad["statusInfo"]["additionalInfo"] == "policy.rules[0].direction: missing"


def test_management_needs_the_permission(station: SecurityContext, grid: KeyPair) -> None:
    before = station.policies
    res = _manage(station, grid, "AddSignaturePolicy", {"policy": {"id": "evil", "rules": []}})
    assert res == {"status": "Rejected", "statusInfo": {
        "reasonCode": "Unauthorized",
        "additionalInfo": "needs a valid signature by a key whose role has 'manage_policies'"}}
    assert station.policies is before
    res = _manage(station, grid, "DeleteUserRole", {"name": "admin"}, seconds=1)
    assert res["statusInfo"]["reasonCode"] == "Unauthorized" and "admin" in station.roles.roles


def test_tampered_management_message_changes_nothing(station: SecurityContext,
                                                     admin: KeyPair) -> None:
    msg = _signed(admin, "AddUserRole", {"role": {"name": "x"}})
    msg["role"]["permissions"] = ["manage_roles"]
    decision = station.check_incoming("AddUserRole", "request", msg, version=V, now=NOW)
    assert decision.outcome is Outcome.REJECT
    res = station.handle_management("AddUserRole", msg, decision)
    assert res["statusInfo"]["reasonCode"] == "Unauthorized" and "x" not in station.roles.roles


def test_add_and_delete_user_role(station: SecurityContext, admin: KeyPair) -> None:
    installer = KeyPair.generate("secp256r1")
    station.trust.add(installer.public_key)
    role = {"name": "installer", "keys": [installer.key_id],
            "allow": [{"action": "SetNetworkProfile"}]}
    assert _manage(station, admin, "AddUserRole", {"role": role}) == {"status": "Accepted"}
    msg = _signed(installer, "SetNetworkProfile", {"configurationSlot": 1})
    d = station.check_incoming("SetNetworkProfile", "request", msg, version=V, now=NOW)
    assert d.accepted and d.signer_roles == {"installer"}
    assert _manage(station, admin, "DeleteUserRole", {"name": "installer"},
                   seconds=1) == {"status": "Accepted"}
    msg = _signed(installer, "SetNetworkProfile", {"configurationSlot": 2})
    d = station.check_incoming("SetNetworkProfile", "request", msg, version=V, now=NOW)
    assert d.outcome is Outcome.REJECT
    bad = _manage(station, admin, "AddUserRole", {"role": {"keys": []}}, seconds=2)
    assert bad["statusInfo"] == {"reasonCode": "InvalidRole",
                                 "additionalInfo": "role.name: missing"}
    gone = _manage(station, admin, "DeleteUserRole", {"name": "nobody"}, seconds=3)
    assert gone["statusInfo"]["reasonCode"] == "UnknownRole"
    with pytest.raises(ValueError):
        station.handle_management("Reset", {}, d)


def test_repr_hides_private_keys(station: SecurityContext, station_key: KeyPair) -> None:
    text = repr(station) + repr(station_key)
    assert station_key.key_id in text and "PRIVATE" not in text and "object at" not in text
