"""Roles: selectors, operators with all-elements semantics, authorization, config errors."""

from __future__ import annotations

from typing import Any

import pytest

from ocppnet.errors import ConfigError
from ocppnet.security.config import parse_text
from ocppnet.security.roles import Constraint, RoleSet, parse_selector

ROLES_TOML = """
[[roles]]
name = "grid-operator"
keys = ["kid-grid"]

[[roles.allow]]
action = "SetChargingProfile"

[[roles.allow.constraints]]
field = "chargingProfile.chargingProfilePurpose"
op = "eq"
value = "ChargingStationExternalConstraints"

[[roles.allow.constraints]]
field = "chargingProfile.chargingSchedule[*].chargingRateUnit"
op = "eq"
value = "W"

[[roles.allow.constraints]]
field = "chargingProfile.chargingSchedule[*].chargingSchedulePeriod[*].limit"
op = "ge"
value = 4200

[[roles]]
name = "installer"
keys = ["kid-installer"]
permissions = ["manage_roles"]
allow = [{ action = "SetNetworkProfile" }]
"""


@pytest.fixture
def roles() -> RoleSet:
    return RoleSet.from_config(parse_text(ROLES_TOML, source="roles.toml"), source="roles.toml")


def test_selector_parsing() -> None:
    assert parse_selector("a.b[*].c[0]") == ("a", "b", -1, "c", 0)
    with pytest.raises(ValueError):
        parse_selector("a..b")


def test_grid_operator_within_limits(roles: RoleSet, profile: dict[str, Any]) -> None:
    auth = roles.authorize("SetChargingProfile", profile, {"grid-operator"})
    assert auth.allowed and auth.role == "grid-operator"


def test_limit_below_minimum_in_any_period_is_refused(roles: RoleSet,
                                                      profile: dict[str, Any]) -> None:
    profile["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][1]["limit"] = 4199
    auth = roles.authorize("SetChargingProfile", profile, {"grid-operator"})
    assert not auth.allowed
    assert auth.reason == ("SetChargingProfile refused: role 'grid-operator': chargingProfile."
                           "chargingSchedule[*].chargingSchedulePeriod[*].limit: 4199 violates "
                           "ge 4200")


def test_wrong_purpose_and_unit(roles: RoleSet, profile: dict[str, Any]) -> None:
    profile["chargingProfile"]["chargingProfilePurpose"] = "TxDefaultProfile"
    assert "chargingProfilePurpose: 'TxDefaultProfile' violates eq" in roles.authorize(
        "SetChargingProfile", profile, {"grid-operator"}).reason
    profile["chargingProfile"]["chargingProfilePurpose"] = "ChargingStationExternalConstraints"
    profile["chargingProfile"]["chargingSchedule"][0]["chargingRateUnit"] = "A"
    assert not roles.authorize("SetChargingProfile", profile, {"grid-operator"}).allowed


def test_missing_required_field(roles: RoleSet, profile: dict[str, Any]) -> None:
    del profile["chargingProfile"]["chargingSchedule"][0]["chargingRateUnit"]
    auth = roles.authorize("SetChargingProfile", profile, {"grid-operator"})
    assert not auth.allowed and auth.reason.endswith("chargingRateUnit: missing")


def test_actions_outside_the_role(roles: RoleSet, profile: dict[str, Any]) -> None:
    assert roles.authorize("SetNetworkProfile", {}, {"installer"}).allowed
    auth = roles.authorize("SetChargingProfile", profile, {"installer"})
    assert auth.reason == "SetChargingProfile is not allowed for role(s) installer"
    assert roles.authorize("Reset", {}, set()).reason == "Reset: no signer with a role"


def test_roles_of_keys_and_permissions(roles: RoleSet) -> None:
    assert roles.roles_of(["kid-installer", "nobody"]) == {"installer"}
    assert roles.has_permission({"installer"}, "manage_roles")
    assert not roles.has_permission({"grid-operator"}, "manage_roles")


@pytest.mark.parametrize(("op", "ref", "good", "bad"), [
    ("eq", 1, 1, True), ("ne", "a", "b", "a"), ("in", ["A", "W"], "W", "kW"),
    ("ge", 5, 5, 4.9), ("le", 5, 5.0, 6), ("gt", 5, 6, 5), ("lt", 5, 4, 5),
    ("max_length", 3, "abc", "abcd"), ("max_length", 1, [1], [1, 2]),
])
def test_operators(op: str, ref: Any, good: Any, bad: Any) -> None:
    c = Constraint.make("x[*]", op, ref)
    assert c.violation({"x": [good, good]}) is None
    assert c.violation({"x": [good, bad]}) is not None
    assert c.violation({"x": []}) is None  # all of nothing holds


def test_optional_constraint_skips_missing_fields() -> None:
    c = Constraint.make("a.b", "ge", 1, required=False)
    assert c.violation({}) is None and c.violation({"a": {"b": 0}}) is not None
    assert Constraint.make("a.b", "ge", 1).violation({"a": {"b": "1"}}) is not None


ALLOW = '[[roles]]\nname = "r"\n[[roles.allow]]\naction = "A"\n'


@pytest.mark.parametrize(("text", "message"), [
    ('[[roles]]\nkeys = ["k"]', "roles.toml: roles[0].name: missing"),
    ('[[roles]]\nname = "r"\npermissions = ["root"]',
     "roles.toml: roles[0].permissions: unknown root"),
    ('[[roles]]\nname = "r"\nkeyz = ["k"]', "roles.toml: roles[0].keyz: unknown key"),
    (ALLOW + 'constraints = [{field = "a", op = "ge", value = "x"}]',
     "roles.toml: roles[0].allow[0].constraints[0]: operator 'ge' needs a number"),
    (ALLOW + 'constraints = [{field = "a", op = "like", value = 1}]',
     "roles.toml: roles[0].allow[0].constraints[0].op: 'like' is not one of"),
    (ALLOW + 'constraints = [{field = "a", op = "eq"}]',
     "roles.toml: roles[0].allow[0].constraints[0].value: missing"),
])
def test_config_errors_name_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        RoleSet.from_config(parse_text(text, source="roles.toml"), source="roles.toml")
    assert err.value.description.startswith(message)


def test_json_and_bad_documents() -> None:
    doc = parse_text('{"roles": [{"name": "r", "allow": [{"action": "*"}]}]}', source="r.json")
    assert RoleSet.from_config(doc).authorize("Reset", {}, {"r"}).allowed
    with pytest.raises(ConfigError, match=r"r\.json: not valid JSON"):
        parse_text("{", source="r.json")
    with pytest.raises(ConfigError, match=r"x\.toml: not valid TOML"):
        parse_text("= 1", source="x.toml")
