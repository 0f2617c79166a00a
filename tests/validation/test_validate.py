"""validate(): valid examples pass; each kind of failure has the right code and names the field."""

import copy
from typing import Any

import pytest

from ocppnet.validation import ValidationFailure, validate

TS = "2024-05-01T10:00:00Z"
STATION = {"model": "SingleSocketCharger", "vendorName": "VendorX"}
ID_TOKEN = {"idToken": "04E9A1B2", "type": "ISO14443"}
METER_VALUE_2X = {
    "timestamp": TS,
    "sampledValue": [
        {
            "value": 1234.5,
            "measurand": "Energy.Active.Import.Register",
            "unitOfMeasure": {"unit": "Wh"},
        },
        {"value": 7.2, "measurand": "Power.Active.Import", "phase": "L1"},
    ],
}
VALID_2X: list[tuple[str, str, dict[str, Any]]] = [
    ("BootNotification", "request", {"reason": "PowerUp", "chargingStation": STATION}),
    ("BootNotification", "response", {"currentTime": TS, "interval": 300, "status": "Accepted"}),
    ("Heartbeat", "request", {}),
    ("Heartbeat", "response", {"currentTime": TS}),
    ("Authorize", "request", {"idToken": ID_TOKEN}),
    ("Authorize", "response", {"idTokenInfo": {"status": "Accepted"}}),
    ("MeterValues", "request", {"evseId": 1, "meterValue": [METER_VALUE_2X]}),
    ("MeterValues", "response", {}),
    (
        "TransactionEvent",
        "request",
        {
            "eventType": "Started",
            "timestamp": TS,
            "triggerReason": "Authorized",
            "seqNo": 0,
            "transactionInfo": {"transactionId": "tx-1", "chargingState": "Charging"},
            "idToken": ID_TOKEN,
            "evse": {"id": 1, "connectorId": 1},
            "meterValue": [METER_VALUE_2X],
        },
    ),
    ("TransactionEvent", "response", {"totalCost": 1.5, "idTokenInfo": {"status": "Accepted"}}),
]
METER_VALUE_16 = {
    "timestamp": TS,
    "sampledValue": [{"value": "1234", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}],
}
VALID_16: list[tuple[str, str, dict[str, Any]]] = [
    ("BootNotification", "request", {"chargePointVendor": "VendorX", "chargePointModel": "M1"}),
    ("BootNotification", "response", {"status": "Accepted", "currentTime": TS, "interval": 300}),
    (
        "StartTransaction",
        "request",
        {"connectorId": 1, "idTag": "04E9A1B2", "meterStart": 0, "timestamp": TS},
    ),
    ("StartTransaction", "response", {"transactionId": 7, "idTagInfo": {"status": "Accepted"}}),
    (
        "StopTransaction",
        "request",
        {"transactionId": 7, "meterStop": 1500, "timestamp": TS, "reason": "Local"},
    ),
    ("StopTransaction", "response", {}),
    (
        "MeterValues",
        "request",
        {"connectorId": 1, "transactionId": 7, "meterValue": [METER_VALUE_16]},
    ),
    ("MeterValues", "response", {}),
]


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
@pytest.mark.parametrize(("action", "kind", "payload"), VALID_2X)
def test_valid_2x_examples_pass(version: str, action: str, kind: Any, payload: Any) -> None:
    assert validate(version, action, kind, payload) is None


@pytest.mark.parametrize(("action", "kind", "payload"), VALID_16)
def test_valid_16_examples_pass(action: str, kind: Any, payload: Any) -> None:
    assert validate("1.6", action, kind, payload) is None


BOOT = {"reason": "PowerUp", "chargingStation": STATION}


def boot(**station: Any) -> dict[str, Any]:
    return {"reason": "PowerUp", "chargingStation": {**STATION, **station}}


@pytest.mark.parametrize(
    ("payload", "code", "description"),
    [
        (boot(model=5), "TypeConstraintViolation", "data.chargingStation.model: must be string"),
        (
            {"reason": "PowerUp", "chargingStation": {"vendorName": "V"}},
            "OccurrenceConstraintViolation",
            "data.chargingStation.model: required property missing",
        ),
        (
            {"reason": "PowerUp"},
            "OccurrenceConstraintViolation",
            "data.chargingStation: required property missing",
        ),
        (
            boot(model="m" * 21),
            "PropertyConstraintViolation",
            "data.chargingStation.model: must be shorter than or equal to 20 characters",
        ),
        (
            {**BOOT, "reason": "Bored"},
            "PropertyConstraintViolation",
            "data.reason: must be one of",
        ),
        (
            boot(colour="red"),
            "PropertyConstraintViolation",
            "data.chargingStation.colour: property not allowed",
        ),
        ({**BOOT, "extra": 1}, "PropertyConstraintViolation", "data.extra: property not allowed"),
    ],
)
def test_failures_name_the_field_201(payload: Any, code: str, description: str) -> None:
    failure = validate("2.0.1", "BootNotification", "request", payload)
    assert isinstance(failure, ValidationFailure)
    assert failure.error_code == code
    assert failure.description.startswith(description)


def test_failures_inside_arrays_name_the_index() -> None:
    payload = {"evseId": 1, "meterValue": [METER_VALUE_2X, {"timestamp": TS, "sampledValue": []}]}
    failure = validate("2.1", "MeterValues", "request", payload)
    assert failure == ValidationFailure(
        "OccurrenceConstraintViolation",
        "data.meterValue[1].sampledValue: must contain at least 1 items",
    )
    bad_value = {"timestamp": TS, "sampledValue": [{"value": "7"}]}
    failure = validate("2.1", "MeterValues", "request", {"evseId": 1, "meterValue": [bad_value]})
    assert failure == ValidationFailure(
        "TypeConstraintViolation", "data.meterValue[0].sampledValue[0].value: must be number"
    )


def test_format_is_a_property_constraint() -> None:
    failure = validate("2.0.1", "Heartbeat", "response", {"currentTime": "yesterday"})
    assert failure is not None
    assert failure.error_code == "PropertyConstraintViolation"
    assert failure.description.startswith("data.currentTime: must be date-time")


def test_16_uses_its_own_spellings() -> None:
    missing = validate("1.6", "BootNotification", "request", {"chargePointVendor": "V"})
    assert missing == ValidationFailure(
        "OccurenceConstraintViolation", "data.chargePointModel: required property missing"
    )
    wrong = validate("1.6", "StartTransaction", "request", {**VALID_16[2][2], "connectorId": "1"})
    assert wrong == ValidationFailure(
        "TypeConstraintViolation", "data.connectorId: must be integer"
    )


def test_payload_that_is_not_an_object() -> None:
    failure = validate("2.0.1", "Heartbeat", "request", [])  # type: ignore[arg-type]
    assert failure == ValidationFailure("TypeConstraintViolation", "data: must be object")


def test_unknown_action_is_not_implemented() -> None:
    failure = validate("2.0.1", "StartTransaction", "request", {})
    assert failure is not None
    assert failure.error_code == "NotImplemented"
    assert "StartTransaction" in failure.description
    assert validate("1.6", "Nope", "response", {}) is not None


def test_signatures_are_ignored_and_the_payload_is_left_alone() -> None:
    signed = {**BOOT, "signatures": [{"keyId": "k", "value": "v"}]}
    before = copy.deepcopy(signed)
    assert validate("2.0.1", "BootNotification", "request", signed) is None
    assert signed == before
    failure = validate("1.6", "Heartbeat", "request", {"signatures": [], "x": 1})
    assert failure is not None and failure.description == "data.x: property not allowed"


def test_validation_never_fills_in_schema_defaults() -> None:
    # GetVariablesRequest declares "default": "Actual" for attributeType.
    payload = {
        "getVariableData": [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "X"}}]
    }
    before = copy.deepcopy(payload)
    assert validate("2.0.1", "GetVariables", "request", payload) is None
    assert payload == before


# --------------------------------------------------------------------- extension schemas

TOPOLOGY = {
    "networkTopologyInformation": {
        "routingNode": "node-1",
        "routes": [
            {"destination": "cs-1", "priority": 0, "weight": 1, "ttlSeconds": 300},
            {"destination": "*"},
        ],
        "timestamp": TS,
    }
}
VALID_EXTENSIONS: list[tuple[str, str, dict[str, Any]]] = [
    ("NotifyNetworkTopology", "request", TOPOLOGY),
    ("NotifyNetworkTopology", "response", {"status": "Accepted"}),
    (
        "AddSignaturePolicy",
        "request",
        {
            "policy": {
                "id": "station",
                "rules": [
                    {
                        "direction": "incoming",
                        "action": "SetChargingProfile",
                        "kind": "request",
                        "require": "role",
                        "roles": ["grid-operator"],
                        "on_failure": "reject",
                    }
                ],
            }
        },
    ),
    ("AddSignaturePolicy", "response", {"status": "Rejected", "statusInfo": {"reasonCode": "Dup"}}),
    ("DeleteSignaturePolicy", "request", {"id": "station"}),
    (
        "DeleteSignaturePolicy",
        "response",
        {"status": "Rejected", "statusInfo": {"reasonCode": "UnknownPolicy"}},
    ),
    (
        "AddUserRole",
        "request",
        {
            "role": {
                "name": "grid-operator",
                "keys": ["k1"],
                "allow": [
                    {
                        "action": "SetChargingProfile",
                        "constraints": [
                            {
                                "field": "chargingProfile.chargingSchedule[*]"
                                ".chargingSchedulePeriod[*].limit",
                                "op": "ge",
                                "value": 4200,
                            }
                        ],
                    }
                ],
            }
        },
    ),
    ("AddUserRole", "response", {"status": "Accepted"}),
    ("DeleteUserRole", "request", {"name": "grid-operator"}),
    ("DeleteUserRole", "response", {"status": "Accepted"}),
    ("BinaryDataTransfer", "request", {"vendorId": "org.example", "messageId": "fw"}),
    ("BinaryDataTransfer", "response", {"status": "UnknownVendorId"}),
    ("GetFile", "request", {"fileName": "logs/today.log", "offset": 0, "maxBytes": 65536}),
    ("GetFile", "response", {"status": "Accepted", "fileName": "logs/today.log", "totalLength": 9}),
    ("SendFile", "request", {"fileName": "fw.bin", "offset": 65536, "fileSha256": "a" * 64}),
    ("SendFile", "response", {"status": "Accepted"}),
    ("ListDirectory", "request", {"directoryPath": ""}),
    (
        "ListDirectory",
        "response",
        {
            "status": "Accepted",
            "entries": [
                {"name": "logs", "type": "Directory"},
                {"name": "a", "type": "File", "size": 3},
            ],
        },
    ),
    ("DeleteFile", "request", {"fileName": "fw.bin"}),
    ("DeleteFile", "response", {"status": "NotFound"}),
]


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
@pytest.mark.parametrize(("action", "kind", "payload"), VALID_EXTENSIONS)
def test_extension_examples_pass_in_every_version(
    version: str, action: str, kind: Any, payload: Any
) -> None:
    assert validate(version, action, kind, payload) is None


@pytest.mark.parametrize(
    ("action", "kind", "payload", "code", "field"),
    [
        (
            "NotifyNetworkTopology",
            "request",
            {
                "networkTopologyInformation": {
                    **TOPOLOGY["networkTopologyInformation"],
                    "routes": [{"priority": 1}],
                }
            },
            "OccurenceConstraintViolation",
            "data.networkTopologyInformation.routes[0].destination",
        ),
        (
            "NotifyNetworkTopology",
            "request",
            {
                "networkTopologyInformation": {
                    **TOPOLOGY["networkTopologyInformation"],
                    "timestamp": "now",
                }
            },
            "PropertyConstraintViolation",
            "data.networkTopologyInformation.timestamp",
        ),
        (
            "SendFile",
            "request",
            {"fileName": "a", "fileSha256": "XYZ"},
            "PropertyConstraintViolation",
            "data.fileSha256",
        ),
        (
            "GetFile",
            "request",
            {"fileName": "a", "maxBytes": 0},
            "PropertyConstraintViolation",
            "data.maxBytes",
        ),
        (
            "DeleteFile",
            "response",
            {"status": "Gone"},
            "PropertyConstraintViolation",
            "data.status",
        ),
        (
            "DeleteUserRole",
            "request",
            {"name": 3},
            "TypeConstraintViolation",
            "data.name",
        ),
        (
            "AddUserRole",
            "request",
            {"role": {"keys": []}},
            "OccurenceConstraintViolation",
            "data.role.name",
        ),
    ],
)
def test_extension_failures_name_the_field(
    action: str, kind: Any, payload: Any, code: str, field: str
) -> None:
    failure = validate("1.6", action, kind, payload)
    assert failure is not None
    assert failure.error_code == code
    assert failure.description.split(": ")[0] == field
