"""``ocppnet policy check|show``: summaries, warnings, one-line errors that name the key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ocppnet.cli.main import main

KID = "Cd5Mo8D5hVqEXCElL3U9ta-ZdrocvjML_3t6yMAyPAI"

SITE = f"""
[[policies]]
id = "station"

[[policies.rules]]
direction = "incoming"
action = "SetChargingProfile"
kind = "request"
require = "role"
roles = ["grid-operator"]

[[policies.rules]]
direction = "outgoing"
kind = "response"
sign_with = ["station"]

[[roles]]
name = "grid-operator"
keys = ["{KID}"]

[[roles.allow]]
action = "SetChargingProfile"

[[roles.allow.constraints]]
field = "chargingProfile.chargingSchedule[*].chargingSchedulePeriod[*].limit"
op = "ge"
value = 4200
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_check_prints_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "site.toml", SITE)
    assert main(["policy", "check", path]) == 0
    out, err = capsys.readouterr()
    assert out == f"{path}: 1 policies (2 rules), 1 roles (1 keys), 0 warnings\n"
    assert err == ""


def test_check_reads_json_and_warns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = {"policies": [{"id": "p", "rules": [
        {"direction": "incoming", "require": "role", "roles": ["dso"]},
        {"direction": "incoming", "require": "all_listed", "keys": ["short"]}]}],
        "roles": [{"name": "empty"}]}
    path = write(tmp_path, "p.json", json.dumps(doc))
    assert main(["policy", "check", path]) == 0
    out, err = capsys.readouterr()
    assert out.endswith("3 warnings\n")
    assert err.splitlines() == [
        f"warning: {path}.policies[0].rules[0].roles: role 'dso' is not defined in this file",
        f"warning: {path}.policies[0].rules[1].keys: 'short' does not look like a key id "
        "(43 base64url chars)",
        f"warning: {path}.roles[0].keys: role 'empty' has no keys",
    ]
    assert main(["policy", "check", "--strict", path]) == 1


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('require = "role"', 'require = "rol"',
         ": policies[0].rules[0].require: input should be 'none', 'any_trusted', 'all_listed' or"),
        ('op = "ge"', 'op = "gte"', ": roles[0].allow[0].constraints[0].op: 'gte' is not one of"),
        ('sign_with = ["station"]', 'sign_wiht = ["station"]',
         ": policies[0].rules[1].sign_wiht: unknown key"),
        ("[[policies]]", "[[policy]]", ": unknown key(s) policy (expected policies, roles)"),
        ('roles = ["grid-operator"]', "roles = []",
         ": policies[0].rules[0].roles: require = 'role' needs at least one role"),
        ("value = 4200", 'value = "4200"',
         ": roles[0].allow[0].constraints[0]: operator 'ge' needs a number"),
        ('id = "station"', 'id = "station', ": not valid TOML"),
    ],
)
def test_errors_are_one_line_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, message: str
) -> None:
    path = write(tmp_path, "site.toml", SITE.replace(old, new, 1))
    assert main(["policy", "check", path]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"ocppnet policy check: {path}{message}")


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "check", str(tmp_path / "nope.toml")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No such file or directory" in err


def test_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "site.toml", SITE)
    assert main(["policy", "show", path]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "policy station",
        "  incoming SetChargingProfile request require=role roles=grid-operator authorize=yes "
        "on_failure=reject",
        "  outgoing * response sign_with=station",
        "role grid-operator: 1 key(s)",
        f"  key {KID}",
        "  allow SetChargingProfile if "
        "chargingProfile.chargingSchedule[*].chargingSchedulePeriod[*].limit ge 4200",
    ]
    assert main(["policy", "show", path, "--action", "Reset", "--kind", "response"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "incoming Reset response: no rule",
        "outgoing Reset response: policy station: outgoing * response sign_with=station",
    ]
