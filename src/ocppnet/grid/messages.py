"""The grid operator's messages and the receipts that answer them, as payloads (pure).

* curtail: ``SetChargingProfile`` (2.0.1/2.1), purpose ChargingStationExternalConstraints on
  EVSE 0, W, one period, ``duration`` = the limit's duration, a fixed profile id (a new limit
  replaces the old); ``chargingProfile.customData`` carries the operator's ``sequence``.
* release: ``ClearChargingProfile`` of that profile id and purpose.
* heartbeat: ``GridHeartbeat`` (our extension): sequence, period, and the limit the operator
  wants in force now, so a dropped curtailment is repaired by the next heartbeat.
* measurement: ``GridMeasurement`` (our extension): the grid connection point's power, sent
  as SEND (OCPP 2.1; CALL on older links).

Every answer carries a *receipt* (state, limit, since, until, the sequence answered), in
``customData`` of the official responses and as ``receipt`` of GridHeartbeat; the enforcing
node or station signs the response (docs/grid-operator.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ocppnet.grid.lpc import LpcState, LpcStatus
from ocppnet.rpc.timestamps import format_seconds, parse_seconds

__all__ = [
    "GRID_PROFILE_ID",
    "VENDOR_ID",
    "Command",
    "MessageError",
    "Receipt",
    "curtail_request",
    "heartbeat_request",
    "measurement_request",
    "parse_command",
    "parse_heartbeat",
    "parse_receipt",
    "receipt_fields",
    "release_request",
]

VENDOR_ID = "ocppnet.grid"
#: the profile id of the grid operator's limit ("14a"); the same for every curtailment
GRID_PROFILE_ID = 14_000
EXTERNAL = "ChargingStationExternalConstraints"


class MessageError(ValueError):
    """A payload that is not a grid operator's message of ours (says which field)."""


iso = format_seconds
from_iso = parse_seconds


# --- the operator's requests --------------------------------------------------------------


def curtail_request(
    limit_w: float, duration_s: float, *, sequence: int, stack_level: int = 0
) -> dict[str, Any]:
    """SetChargingProfile: cap the whole site/station at ``limit_w`` for ``duration_s``."""
    return {
        "evseId": 0,
        "chargingProfile": {
            "id": GRID_PROFILE_ID,
            "stackLevel": stack_level,
            "chargingProfilePurpose": EXTERNAL,
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [{
                "id": GRID_PROFILE_ID,
                "chargingRateUnit": "W",
                "duration": max(1, math.ceil(duration_s)),
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": float(limit_w)}],
            }],
            "customData": {"vendorId": VENDOR_ID, "sequence": sequence},
        },
    }


def release_request(*, sequence: int) -> dict[str, Any]:
    """ClearChargingProfile of the grid operator's profile."""
    return {
        "chargingProfileId": GRID_PROFILE_ID,
        "chargingProfileCriteria": {"chargingProfilePurpose": EXTERNAL},
        "customData": {"vendorId": VENDOR_ID, "sequence": sequence},
    }


def heartbeat_request(
    *, sequence: int, period_s: float, limit_w: float | None = None,
    remaining_s: float | None = None,
) -> dict[str, Any]:
    """GridHeartbeat; with ``limit_w`` the limit the operator wants in force (``remaining_s``)."""
    payload: dict[str, Any] = {"sequence": sequence, "periodS": period_s}
    if limit_w is not None and remaining_s is not None and remaining_s > 0:
        payload["limit"] = {"limitW": float(limit_w), "remainingS": remaining_s}
    return payload


def measurement_request(
    *, target: str, sequence: int, now: float, power_w: float, meter: str,
    status: LpcStatus,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "target": target, "sequence": sequence, "timestamp": iso(now),
        "powerW": round(power_w, 1), "meter": meter[:64], "state": status.state.value,
    }
    if status.limit_w is not None:
        payload["limitW"] = status.limit_w
    return payload


# --- what a site reads from them ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Command:
    """A curtailment (``limit_w``, ``duration_s``) or a release (both None)."""

    sequence: int
    limit_w: float | None = None
    duration_s: float | None = None


def _sequence(data: Any, where: str) -> int:
    custom = data.get("customData") if isinstance(data, dict) else None
    value = custom.get("sequence") if isinstance(custom, dict) else None
    if custom is None or custom.get("vendorId") != VENDOR_ID:
        raise MessageError(f"{where}.customData: not a grid operator message "
                           f"(vendorId {VENDOR_ID!r} expected)")
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MessageError(f"{where}.customData.sequence: integer >= 0 expected")
    return value


def parse_command(action: str, payload: dict[str, Any]) -> Command:
    """A SetChargingProfile / ClearChargingProfile of the grid operator, or MessageError."""
    if action == "ClearChargingProfile":
        if payload.get("chargingProfileId") != GRID_PROFILE_ID:
            raise MessageError(f"chargingProfileId: {GRID_PROFILE_ID} expected")
        return Command(_sequence(payload, "ClearChargingProfileRequest"))
    if action != "SetChargingProfile":
        raise MessageError(f"{action}: not a grid operator command")
    profile = payload.get("chargingProfile") or {}
    if profile.get("chargingProfilePurpose") != EXTERNAL or payload.get("evseId") != 0:
        raise MessageError(f"chargingProfile: purpose {EXTERNAL} on evseId 0 expected")
    sequence = _sequence(profile, "chargingProfile")
    schedules = profile.get("chargingSchedule") or [{}]
    schedule = schedules[0]
    periods = schedule.get("chargingSchedulePeriod") or []
    if schedule.get("chargingRateUnit") != "W" or len(periods) != 1:
        raise MessageError("chargingSchedule[0]: one period in W expected")
    duration = schedule.get("duration")
    if not isinstance(duration, int) or duration <= 0:
        raise MessageError("chargingSchedule[0].duration: the limit's duration (s) expected")
    return Command(sequence, float(periods[0]["limit"]), float(duration))


def parse_heartbeat(payload: dict[str, Any]) -> tuple[int, tuple[float, float] | None]:
    """(sequence, (limit W, remaining s) or None) of a schema-valid GridHeartbeat."""
    limit = payload.get("limit")
    wanted = (float(limit["limitW"]), float(limit["remainingS"])) if limit else None
    return int(payload["sequence"]), wanted


# --- receipts -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the enforcing side says is in force (times in POSIX seconds)."""

    target: str
    sequence: int
    state: LpcState
    limit_w: float | None
    since: float
    until: float | None
    heartbeat_due: float | None = None


def receipt_fields(target: str, sequence: int, status: LpcStatus) -> dict[str, Any]:
    """The receipt as JSON fields (GridReceiptType; also inside customData)."""
    fields: dict[str, Any] = {"target": target, "sequence": sequence,
                              "state": status.state.value, "since": iso(status.since)}
    if status.limit_w is not None:
        fields["limitW"] = status.limit_w
    if status.until is not None:
        fields["until"] = iso(status.until)
    if status.heartbeat_due is not None:
        fields["heartbeatDue"] = iso(status.heartbeat_due)
    return fields


def parse_receipt(action: str, response: dict[str, Any]) -> Receipt:
    """The receipt in a response to one of the operator's messages, or MessageError."""
    data = response.get("receipt") if action == "GridHeartbeat" else response.get("customData")
    if not isinstance(data, dict):
        raise MessageError(f"{action}Response: no receipt")
    if action != "GridHeartbeat" and data.get("vendorId") != VENDOR_ID:
        raise MessageError(f"{action}Response.customData: vendorId {VENDOR_ID!r} expected")
    try:
        limit = data.get("limitW")
        return Receipt(
            target=str(data["target"]), sequence=int(data["sequence"]),
            state=LpcState(data["state"]),
            limit_w=None if limit is None else float(limit),
            since=from_iso(data["since"]),
            until=from_iso(data["until"]) if "until" in data else None,
            heartbeat_due=from_iso(data["heartbeatDue"]) if "heartbeatDue" in data else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MessageError(f"{action}Response: malformed receipt: {exc}") from None
