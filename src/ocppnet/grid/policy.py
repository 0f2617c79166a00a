"""The signature policies and the role a grid-operator setup needs, as data (pure).

The same content as ``examples/site-policy.toml`` and ``examples/grid-policy.toml``, for
setups built in code (the demo, tests): a site accepts SetChargingProfile,
ClearChargingProfile and GridHeartbeat only signed by a key with the ``grid-operator`` role
(limits: ChargingStationExternalConstraints, W, >= 4.2 kW); the operator signs them.
"""

from __future__ import annotations

from typing import Any

from ocppnet.grid.minimum import DEVICE_MINIMUM_W
from ocppnet.security.context import SecurityContext
from ocppnet.security.keys import KeyPair
from ocppnet.security.policy import PolicySet
from ocppnet.security.roles import RoleSet
from ocppnet.security.trust import TrustStore

__all__ = ["GRID_ACTIONS", "grid_role", "operator_policy", "site_policy", "site_security"]

GRID_ACTIONS = ("SetChargingProfile", "ClearChargingProfile", "GridHeartbeat")


def grid_role(operator_key_id: str, name: str = "grid-operator") -> dict[str, Any]:
    return {"name": name, "keys": [operator_key_id], "allow": [
        {"action": "SetChargingProfile", "constraints": [
            {"field": "chargingProfile.chargingProfilePurpose", "op": "eq",
             "value": "ChargingStationExternalConstraints"},
            {"field": "chargingProfile.chargingSchedule[*].chargingRateUnit", "op": "eq",
             "value": "W"},
            {"field": "chargingProfile.chargingSchedule[*].chargingSchedulePeriod[*].limit",
             "op": "ge", "value": DEVICE_MINIMUM_W}]},
        {"action": "ClearChargingProfile"},
        {"action": "GridHeartbeat"},
    ]}


def site_policy(operator_key_id: str, role: str = "grid-operator") -> dict[str, Any]:
    """Policies and role of a site (node or station), as a policy file holds them."""
    return {
        "policies": [{"id": "grid-site", "rules": [
            {"direction": "incoming", "action": action, "kind": "request", "require": "role",
             "roles": [role], "authorize": True} for action in GRID_ACTIONS]}],
        "roles": [grid_role(operator_key_id, role)],
    }


def operator_policy(key_name: str = "grid-op") -> dict[str, Any]:
    """The operator signs its grid actions with ``key_name``."""
    return {"policies": [{"id": "grid-operator", "rules": [
        {"direction": "outgoing", "action": action, "kind": "request",
         "sign_with": [key_name]} for action in GRID_ACTIONS]}]}


def site_security(operator: KeyPair | TrustStore, own: KeyPair, name: str,
                  *, operator_key_id: str | None = None) -> SecurityContext:
    """A site's SecurityContext: trusts the operator's key, signs with ``own`` as ``name``."""
    if isinstance(operator, TrustStore):
        trust, key_id = operator, operator_key_id
    else:
        trust, key_id = TrustStore(), operator.key_id
        trust.add(operator.public_key, name="grid-operator")
    if key_id is None:
        raise ValueError("operator_key_id is needed with a TrustStore")
    config = site_policy(key_id)
    return SecurityContext(trust=trust, signing_keys={name: own},
                           policies=PolicySet.from_config(config),
                           roles=RoleSet.from_config(config))
