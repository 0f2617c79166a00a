"""The common operator commands as (action, payload) for a station's OCPP version. Pure.

One function per command; each takes the station's version and the command's arguments and
returns the OCPP request to send, in the shape that version defines (1.6 spells most of
them differently: RemoteStartTransaction, Hard/Soft resets, GetConfiguration, ...).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

Payload = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Command:
    action: str
    payload: Payload


def _v16(version: str) -> bool:
    return version == "1.6"


def remote_start(version: str, id_token: str, *, remote_start_id: int, evse_id: int | None,
                 charging_profile: Payload | None, token_type: str = "Central") -> Command:
    if _v16(version):
        req: Payload = {"idTag": id_token}
        if evse_id is not None:
            req["connectorId"] = evse_id
        if charging_profile is not None:
            req["chargingProfile"] = charging_profile
        return Command("RemoteStartTransaction", req)
    req = {"idToken": {"idToken": id_token, "type": token_type},
           "remoteStartId": remote_start_id}
    if evse_id is not None:
        req["evseId"] = evse_id
    if charging_profile is not None:
        req["chargingProfile"] = charging_profile
    return Command("RequestStartTransaction", req)


def remote_stop(version: str, transaction_id: str) -> Command:
    """1.6 transaction ids are integers; a non-numeric one is left for validation to refuse."""
    if _v16(version):
        tx: Any = int(transaction_id) if transaction_id.isdigit() else transaction_id
        return Command("RemoteStopTransaction", {"transactionId": tx})
    return Command("RequestStopTransaction", {"transactionId": transaction_id})


def reset(version: str, kind: Literal["Immediate", "OnIdle"], evse_id: int | None) -> Command:
    if _v16(version):
        return Command("Reset", {"type": "Hard" if kind == "Immediate" else "Soft"})
    req: Payload = {"type": kind}
    if evse_id is not None:
        req["evseId"] = evse_id
    return Command("Reset", req)


def set_charging_profile(version: str, evse_id: int, profile: Payload) -> Command:
    """``profile`` in the version's own shape (csChargingProfiles in 1.6)."""
    if _v16(version):
        return Command("SetChargingProfile", {"connectorId": evse_id,
                                              "csChargingProfiles": profile})
    return Command("SetChargingProfile", {"evseId": evse_id, "chargingProfile": profile})


def limit_profile(version: str, *, profile_id: int, evse_id: int, limit: float,
                  unit: Literal["W", "A"], stack_level: int = 1) -> Payload:
    """An absolute, always-on limit: the station maximum on EVSE 0, else the default for
    transactions on that EVSE (TxDefaultProfile)."""
    station_max = evse_id == 0
    if _v16(version):
        purpose = "ChargePointMaxProfile" if station_max else "TxDefaultProfile"
    else:
        purpose = "ChargingStationMaxProfile" if station_max else "TxDefaultProfile"
    schedule: Payload = {
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": float(limit)}],
    }
    profile: Payload = {
        "stackLevel": stack_level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Relative",  # in force from now on, no start time needed
    }
    if _v16(version):
        profile["chargingProfileId"] = profile_id
        profile["chargingSchedule"] = schedule
    else:
        profile["id"] = profile_id
        profile["chargingSchedule"] = [{"id": profile_id, **schedule}]
    return profile


def clear_charging_profile(version: str, *, profile_id: int | None, evse_id: int | None,
                           purpose: str | None, stack_level: int | None) -> Command:
    if _v16(version):
        req: Payload = {}
        for key, value in (("id", profile_id), ("connectorId", evse_id),
                           ("chargingProfilePurpose", purpose), ("stackLevel", stack_level)):
            if value is not None:
                req[key] = value
        return Command("ClearChargingProfile", req)
    req = {}
    if profile_id is not None:
        req["chargingProfileId"] = profile_id
    criteria = {k: v for k, v in (("evseId", evse_id), ("chargingProfilePurpose", purpose),
                                  ("stackLevel", stack_level)) if v is not None}
    if criteria:
        req["chargingProfileCriteria"] = criteria
    return Command("ClearChargingProfile", req)


def get_variables(version: str, variables: Sequence[tuple[str, str]]) -> Command:
    """(component, variable) pairs; 1.6 has configuration keys (the variable name) only."""
    if _v16(version):
        return Command("GetConfiguration", {"key": [v for _, v in variables]})
    return Command("GetVariables", {"getVariableData": [
        {"component": {"name": c}, "variable": {"name": v}} for c, v in variables]})


def set_variables(version: str, values: Sequence[tuple[str, str, str]]) -> list[Command]:
    """(component, variable, value) triples; 1.6 needs one ChangeConfiguration per key."""
    if _v16(version):
        return [Command("ChangeConfiguration", {"key": v, "value": value})
                for _, v, value in values]
    return [Command("SetVariables", {"setVariableData": [
        {"component": {"name": c}, "variable": {"name": v}, "attributeValue": value}
        for c, v, value in values]})]


def trigger_message(version: str, requested: str, evse_id: int | None) -> Command:
    if _v16(version):
        req: Payload = {"requestedMessage": requested}
        if evse_id is not None:
            req["connectorId"] = evse_id
        return Command("TriggerMessage", req)
    req = {"requestedMessage": requested}
    if evse_id is not None:
        req["evse"] = {"id": evse_id}
    return Command("TriggerMessage", req)


def change_availability(version: str, operative: bool, evse_id: int | None,
                        connector_id: int | None) -> Command:
    if _v16(version):
        return Command("ChangeAvailability", {
            "connectorId": evse_id if evse_id is not None else 0,
            "type": "Operative" if operative else "Inoperative"})
    req: Payload = {"operationalStatus": "Operative" if operative else "Inoperative"}
    if evse_id is not None:
        req["evse"] = {"id": evse_id, **({"connectorId": connector_id}
                                         if connector_id is not None else {})}
    return Command("ChangeAvailability", req)


def unlock_connector(version: str, evse_id: int, connector_id: int) -> Command:
    if _v16(version):
        return Command("UnlockConnector", {"connectorId": connector_id})
    return Command("UnlockConnector", {"evseId": evse_id, "connectorId": connector_id})
