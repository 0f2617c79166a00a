"""[security] from TOML: keys, trust, policies and roles loaded and cross-checked at start."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ocppnet.config import parse_section
from ocppnet.errors import ConfigError
from ocppnet.security.keys import public_pem
from ocppnet.security.keystore import KeyStore
from ocppnet.security.settings import SecuritySection, build_security
from ocppnet.security.signatures import VerdictStatus, verify

POLICY = """
[[policies]]
id = "site"
[[policies.rules]]
direction = "outgoing"
action = "SetChargingProfile"
kind = "request"
sign_with = ["{key}"]
[[policies.rules]]
direction = "incoming"
action = "SetChargingProfile"
kind = "request"
require = "role"
roles = ["{role}"]
"""
ROLES = """
[[roles]]
name = "grid-operator"
keys = ["{kid}"]
[[roles.allow]]
action = "SetChargingProfile"
"""


def section(tmp_path: Path, **table: object) -> SecuritySection:
    return parse_section(SecuritySection, table, source="p.toml", where="security",
                         base=tmp_path)


def build(tmp_path: Path, **table: object) -> object:
    return build_security(section(tmp_path, **table), source="p.toml")


@pytest.fixture()
def keys(tmp_path: Path) -> KeyStore:
    store = KeyStore(tmp_path / "keys")
    store.new("grid", "secp256r1")
    return store


def test_a_process_signs_and_trusts_what_its_section_says(tmp_path: Path, keys: KeyStore) -> None:
    kid = keys.list_keys()[0].key_id
    (tmp_path / "policy.toml").write_text(POLICY.format(key="grid", role="grid-operator"))
    (tmp_path / "roles.toml").write_text(ROLES.format(kid=kid))
    peer = KeyStore(tmp_path / "peer")
    peer.new("station", "ed25519")
    (tmp_path / "trusted").mkdir()
    (tmp_path / "trusted" / "station.pub.pem").write_bytes(peer.public_pem("station"))
    ctx = build_security(section(
        tmp_path, keystore="keys", signing_keys=["grid"], trust=["trusted"],
        policy_file="policy.toml", role_file="roles.toml", replay_window_s=60,
    ), source="p.toml")
    now = datetime.now(UTC)
    signed = ctx.sign_outgoing("SetChargingProfile", "request", {"evseId": 1},
                               version="2.0.1", now=now)
    [verdict] = verify(signed, action="SetChargingProfile", kind="request", version="2.0.1",
                       trusted=ctx.trust, now=now)
    assert verdict.status is VerdictStatus.VALID
    assert peer.list_keys()[0].key_id in ctx.trust
    assert ctx.roles.roles["grid-operator"].keys == frozenset({kid})
    assert ctx.engine.replay.window == 60.0


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"keystore": "nowhere"}, "p.toml: security.keystore: "),
        ({"keystore": "keys", "signing_keys": ["other"]},
         "p.toml: security.signing_keys: no private key 'other'"),
        ({"signing_keys": ["grid"]}, "p.toml: security.signing_keys: needs security.keystore"),
        ({"trust": ["missing.pem"]}, "p.toml: security.trust[0]: "),
        ({"trust": ["garbage.pem"]}, "garbage.pem: not a PEM public key"),
        ({"policy_file": "none.toml"}, "p.toml: security.policy_file: "),
        ({"keystore": "keys", "policy_file": "policy.toml"},
         "signs with 'grid', which is not in security.signing_keys"),
        ({"keystore": "keys", "signing_keys": ["grid"], "policy_file": "policy.toml"},
         "requires role 'grid-operator', which no role file defines"),
        ({"replay_window_s": 0}, "p.toml: security.replay_window_s: must be > 0"),
        ({"trusted": []}, "p.toml: security.trusted: unknown key"),
    ],
)
def test_every_bad_file_stops_the_start_with_one_line(
    tmp_path: Path, keys: KeyStore, table: dict[str, object], message: str
) -> None:
    (tmp_path / "garbage.pem").write_text("not a key")
    (tmp_path / "policy.toml").write_text(POLICY.format(key="grid", role="grid-operator"))
    with pytest.raises(ConfigError) as caught:
        build(tmp_path, **table)
    assert message in caught.value.description
    assert "\n" not in caught.value.description


def test_a_private_key_readable_by_others_is_refused(tmp_path: Path, keys: KeyStore) -> None:
    os.chmod(tmp_path / "keys" / "grid.key.pem", 0o644)
    with pytest.raises(ConfigError, match=r"grid\.key\.pem: private key readable by others"):
        build(tmp_path, keystore="keys", signing_keys=["grid"])


def test_trust_names_come_from_the_file(tmp_path: Path, keys: KeyStore) -> None:
    pair = keys.key_pair("grid")
    (tmp_path / "dso.pem").write_bytes(public_pem(pair.public_key))
    ctx = build_security(section(tmp_path, trust=["dso.pem"]), source="p.toml")
    entry = ctx.trust.get(pair.key_id)
    assert entry is not None and entry.name == "dso"
