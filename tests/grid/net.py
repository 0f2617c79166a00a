"""Keys and security contexts of a grid-operator topology, shared by the loopback tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ocppnet.security.context import SecurityContext
from ocppnet.security.keys import KeyPair
from ocppnet.security.policy import PolicySet
from ocppnet.security.roles import RoleSet
from ocppnet.security.trust import TrustStore

GRID_ACTIONS = ("SetChargingProfile", "ClearChargingProfile", "GridHeartbeat")


def grid_role(grid: KeyPair) -> dict[str, Any]:
    """The DSO's role at a site: limits in W (>= 4.2 kW), release, heartbeat."""
    return {"name": "grid-operator", "keys": [grid.key_id], "allow": [
        {"action": "SetChargingProfile", "constraints": [
            {"field": "chargingProfile.chargingProfilePurpose", "op": "eq",
             "value": "ChargingStationExternalConstraints"},
            {"field": "chargingProfile.chargingSchedule[*].chargingRateUnit", "op": "eq",
             "value": "W"},
            {"field": "chargingProfile.chargingSchedule[*].chargingSchedulePeriod[*].limit",
             "op": "ge", "value": 4200}]},
        {"action": "ClearChargingProfile"},
        {"action": "GridHeartbeat"},
    ]}


def site_policy(grid: KeyPair) -> dict[str, Any]:
    """A site (node or station): the grid actions need the grid-operator role."""
    return {
        "policies": [{"id": "site", "rules": [
            {"direction": "incoming", "action": action, "kind": "request", "require": "role",
             "roles": ["grid-operator"], "authorize": True} for action in GRID_ACTIONS]}],
        "roles": [grid_role(grid)],
    }


def site_security(grid: KeyPair, own: KeyPair, name: str) -> SecurityContext:
    trust = TrustStore()
    trust.add(grid.public_key, name="grid-operator")
    config = site_policy(grid)
    return SecurityContext(trust=trust, signing_keys={name: own},
                           policies=PolicySet.from_config(config),
                           roles=RoleSet.from_config(config))


def operator_policy() -> dict[str, Any]:
    return {"policies": [{"id": "dso", "rules": [
        {"direction": "outgoing", "action": action, "kind": "request",
         "sign_with": ["grid-op"]} for action in GRID_ACTIONS]}]}


def operator_security(grid: KeyPair) -> SecurityContext:
    return SecurityContext(trust=TrustStore(), signing_keys={"grid-op": grid},
                           policies=PolicySet.from_config(operator_policy()))


async def until(check: Callable[[], Any], limit: float = 20.0) -> Any:
    async with asyncio.timeout(limit):  # guards against a hang only
        while not (result := check()):  # noqa: ASYNC110 (polls processes' state)
            await asyncio.sleep(0.05)
        return result


def site_policy_for(grid_key_id: str) -> dict[str, Any]:
    """:func:`site_policy` for a key known by its id only (a policy file on disk)."""
    role = grid_role(KeyPair.generate("ed25519"))
    role["keys"] = [grid_key_id]
    policy = site_policy(KeyPair.generate("ed25519"))
    policy["roles"] = [role]
    return policy
