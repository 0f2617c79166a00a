"""[security] updates_file: remote trust, policy and role changes survive a restart.

Without it a key revoked remotely is trusted again once the process restarts; with it the
restarted verifier refuses that key's next command. The file is real (tmp_path), the
context is built from TOML-like settings the way every process builds it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ocppnet.config import parse_section
from ocppnet.errors import ConfigError
from ocppnet.security.context import SecurityContext
from ocppnet.security.keys import KeyPair, public_pem
from ocppnet.security.settings import SecuritySection, build_security
from ocppnet.security.signatures import sign
from ocppnet.security.updates_file import decode_updates

from .conftest import NOW

ADMIN, GRID, NEW = (KeyPair.generate("secp256r1") for _ in range(3))

POLICY = """
[[policies]]
id = "station"
[[policies.rules]]
direction = "incoming"
action = "RevokeTrustedKey"
require = "any_trusted"
[[policies.rules]]
direction = "incoming"
action = "AddTrustedKey"
require = "any_trusted"
[[policies.rules]]
direction = "incoming"
action = "Reset"
require = "role"
roles = ["grid-operator"]

[[roles]]
name = "cpo"
keys = ["{admin}"]
permissions = ["manage_keys"]
[[roles]]
name = "grid-operator"
keys = ["{grid}"]
[[roles.allow]]
action = "Reset"
"""


def settings(tmp_path: Path, *, journal: bool = True) -> SecuritySection:
    (tmp_path / "admin.pub.pem").write_bytes(public_pem(ADMIN.public_key))
    (tmp_path / "grid.pub.pem").write_bytes(public_pem(GRID.public_key))
    (tmp_path / "policy.toml").write_text(POLICY.format(admin=ADMIN.key_id, grid=GRID.key_id))
    data: dict[str, Any] = {"trust": ["admin.pub.pem", "grid.pub.pem"],
                            "policy_file": "policy.toml"}
    if journal:
        data["updates_file"] = "security-updates.jsonl"
    return parse_section(SecuritySection, data, source="station.toml", where="security",
                         base=tmp_path)


def manage(ctx: SecurityContext, action: str, payload: dict[str, Any], at: Any = NOW) -> Any:
    signed = sign(payload, action=action, kind="request", version="2.0.1", key=ADMIN, now=at)
    decision = ctx.check_incoming(action, "request", signed, version="2.0.1", now=at)
    assert decision.accepted, decision.reason
    return ctx.handle_management(action, signed, decision, now=at)


def reset_by(ctx: SecurityContext, key: KeyPair, at: Any) -> Any:
    signed = sign({"type": "Immediate"}, action="Reset", kind="request", version="2.0.1",
                  key=key, now=at)
    return ctx.check_incoming("Reset", "request", signed, version="2.0.1", now=at)


def test_a_remote_revocation_survives_a_restart(tmp_path: Path) -> None:
    section = settings(tmp_path)
    first = build_security(section, source="station.toml")
    assert manage(first, "RevokeTrustedKey", {"keyId": GRID.key_id})["status"] == "Accepted"

    restarted = build_security(section, source="station.toml")
    refused = reset_by(restarted, GRID, NOW + timedelta(seconds=5))
    assert not refused.accepted and "revoked" in refused.reason
    assert restarted.trust.is_revoked(GRID.key_id)


def test_without_the_file_a_restart_forgets_and_a_refused_change_is_not_kept(
        tmp_path: Path) -> None:
    section = settings(tmp_path, journal=False)
    first = build_security(section, source="station.toml")
    assert manage(first, "RevokeTrustedKey", {"keyId": GRID.key_id})["status"] == "Accepted"
    assert reset_by(build_security(section, source="station.toml"), GRID,
                    NOW + timedelta(seconds=5)).accepted  # what the file is for

    kept = settings(tmp_path)
    ctx = build_security(kept, source="station.toml")
    answer = manage(ctx, "AddTrustedKey", {"publicKey": "not a PEM key"})
    assert answer["status"] == "Rejected"
    assert not (tmp_path / "security-updates.jsonl").exists()


def test_a_rotation_is_applied_again_with_its_original_time(tmp_path: Path) -> None:
    section = settings(tmp_path)
    ctx = build_security(section, source="station.toml")
    pem = public_pem(NEW.public_key).decode()
    answer = manage(ctx, "AddTrustedKey", {"publicKey": pem, "replaces": GRID.key_id,
                                           "overlapSeconds": 60})
    assert answer["status"] == "Accepted"
    restarted = build_security(section, source="station.toml")
    assert reset_by(restarted, NEW, NOW + timedelta(seconds=120)).accepted  # joined the role
    late = reset_by(restarted, GRID, NOW + timedelta(seconds=120))
    assert not late.accepted  # the overlap counted from when it was applied, not the restart


def test_a_damaged_file_names_the_line_and_a_torn_last_line_is_ignored(
        tmp_path: Path) -> None:
    section = settings(tmp_path)
    ctx = build_security(section, source="station.toml")
    manage(ctx, "RevokeTrustedKey", {"keyId": GRID.key_id})
    path = tmp_path / "security-updates.jsonl"
    good = path.read_bytes()
    path.write_bytes(good + b'{"action": "RevokeTrus')  # a crash in the middle of a write
    assert len(decode_updates(path.read_bytes(), source="f")) == 1
    build_security(section, source="station.toml")
    path.write_bytes(good + b'{"action": "Reboot", "payload": {}}\n')
    with pytest.raises(ConfigError, match=r"security-updates\.jsonl:2: action: expected one of"):
        build_security(section, source="station.toml")
