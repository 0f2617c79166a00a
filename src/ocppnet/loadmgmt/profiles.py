"""The SetChargingProfile request that puts one EVSE's limit in force (pure payload builders).

A TxDefaultProfile on the EVSE (1.6: on the connector), Absolute, one period, in W: it caps
the running session and the next one on that EVSE until the load manager sends another.
"""

from __future__ import annotations

from typing import Any


def set_limit_request(
    version: str, evse_id: int, limit_w: float, *, profile_id: int, stack_level: int
) -> dict[str, Any]:
    """The SetChargingProfile payload for ``version`` ("1.6", "2.0.1", "2.1")."""
    period = {"startPeriod": 0, "limit": round(limit_w, 1)}
    if version == "1.6":
        return {
            "connectorId": evse_id,
            "csChargingProfiles": {
                "chargingProfileId": profile_id,
                "stackLevel": stack_level,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": {"chargingRateUnit": "W",
                                     "chargingSchedulePeriod": [period]},
            },
        }
    return {
        "evseId": evse_id,
        "chargingProfile": {
            "id": profile_id,
            "stackLevel": stack_level,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [{"id": profile_id, "chargingRateUnit": "W",
                                  "chargingSchedulePeriod": [period]}],
        },
    }


def profile_id_for(base: int, evse_id: int) -> int:
    """One stable profile id per EVSE, so a new limit replaces the old profile."""
    return base + evse_id
