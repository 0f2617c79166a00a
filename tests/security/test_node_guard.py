"""The router guard: a node refuses what its policy and roles refuse, with the reason."""

from __future__ import annotations

from typing import Any

from ocppnet.rpc.frames import Call
from ocppnet.security.context import SecurityContext
from ocppnet.security.keys import KeyPair
from ocppnet.security.node_guard import signature_guard
from ocppnet.security.policy import PolicyDecision, PolicySet
from ocppnet.security.roles import RoleSet
from ocppnet.security.signer import CommandSigner, external_limit_profile
from ocppnet.security.trust import TrustStore

from .conftest import NOW

V = "2.0.1"


def node_security(grid: KeyPair, on_failure: str = "reject") -> SecurityContext:
    trust = TrustStore()
    trust.add(grid.public_key)
    config: dict[str, Any] = {
        "policies": [{"id": "node", "rules": [
            {"direction": "incoming", "action": "SetChargingProfile", "kind": "request",
             "require": "role", "roles": ["grid-operator"], "on_failure": on_failure}]}],
        "roles": [{"name": "grid-operator", "keys": [grid.key_id], "allow": [{
            "action": "SetChargingProfile", "constraints": [{
                "field": "chargingProfile.chargingSchedule[*].chargingSchedulePeriod[*].limit",
                "op": "ge", "value": 4200}]}]}],
    }
    return SecurityContext(trust=trust, policies=PolicySet.from_config(config),
                           roles=RoleSet.from_config(config))


def call(payload: dict[str, Any], action: str = "SetChargingProfile") -> Call:
    return Call("m1", action, payload, dest="CS-1", path=("GRID-1", "CSMS-1"))


def test_guard_passes_allowed_and_refuses_the_rest() -> None:
    grid = KeyPair.generate("secp256r1")
    seen: list[tuple[str, PolicyDecision]] = []
    guard = signature_guard(node_security(grid), clock=lambda: NOW, node_id="NODE-A",
                            on_verdict=lambda c, d: seen.append((c.action, d)))
    signer = CommandSigner(grid)
    assert guard(call(signer.external_limit(5000, version=V, now=NOW)), V) is None
    low = guard(call(signer.external_limit(1000, version=V, now=NOW)), V)
    assert low is not None and low.startswith("refused at node NODE-A: SetChargingProfile")
    assert "violates ge 4200" in low
    unsigned = guard(call(external_limit_profile(5000)), V)
    assert unsigned is not None and "requires a signature by role grid-operator" in unsigned
    assert guard(call({"type": "Immediate"}, "Reset"), V) is None  # no rule: not our business
    assert (guard.checked, guard.refused) == (4, 2)
    assert [d.accepted for _, d in seen] == [True, False, False, True]


def test_guard_replay_memory_and_action_filter() -> None:
    grid = KeyPair.generate("ed25519")
    guard = signature_guard(node_security(grid), clock=lambda: NOW, actions={"Reset"})
    signed = CommandSigner(grid).external_limit(100, version=V, now=NOW)
    assert guard(call(signed), V) is None  # not in the checked actions
    strict = signature_guard(node_security(grid, on_failure="drop"), clock=lambda: NOW)
    ok = CommandSigner(grid).external_limit(6000, version=V, now=NOW)
    assert strict(call(ok), V) is None
    again = strict(call(ok), V)
    assert again is not None and "replayed" in again  # drop is refused too, never silent
