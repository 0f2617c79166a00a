"""Every helper command is a schema-valid request of each OCPP version (official schemas)."""

from __future__ import annotations

import pytest

from ocppnet.csms.api import commands
from ocppnet.csms.api.calls import failure_for, invalid_payload_detail
from ocppnet.csms.api.commands import Command
from ocppnet.errors import (
    CallErrorReceived,
    CallTimeout,
    ConnectionClosed,
    FormatViolation,
    UnknownClient,
)
from ocppnet.validation import validate

VERSIONS = ["1.6", "2.0.1", "2.1"]


def all_commands(version: str) -> list[Command]:
    profile = commands.limit_profile(version, profile_id=7, evse_id=0, limit=11000, unit="W")
    evse_profile = commands.limit_profile(version, profile_id=8, evse_id=1, limit=16, unit="A")
    return [
        commands.remote_start(version, "TAG-1", remote_start_id=3, evse_id=1,
                              charging_profile=None),
        commands.remote_start(version, "TAG-1", remote_start_id=3, evse_id=None,
                              charging_profile=None),
        commands.remote_stop(version, "42"),
        commands.reset(version, "Immediate", None),
        commands.reset(version, "OnIdle", None),
        commands.set_charging_profile(version, 0, profile),
        commands.set_charging_profile(version, 1, evse_profile),
        commands.clear_charging_profile(version, profile_id=7, evse_id=None, purpose=None,
                                        stack_level=None),
        commands.clear_charging_profile(version, profile_id=None, evse_id=1,
                                        purpose="TxDefaultProfile", stack_level=1),
        commands.get_variables(version, [("OCPPCommCtrlr", "HeartbeatInterval")]),
        *commands.set_variables(version, [("OCPPCommCtrlr", "HeartbeatInterval", "60"),
                                          ("AuthCtrlr", "LocalPreAuthorize", "true")]),
        commands.trigger_message(version, "StatusNotification", 1),
        commands.trigger_message(version, "Heartbeat", None),
        commands.change_availability(version, False, 1, 1),
        commands.change_availability(version, True, None, None),
        commands.unlock_connector(version, 1, 1),
    ]


@pytest.mark.parametrize("version", VERSIONS)
def test_every_command_is_schema_valid(version: str) -> None:
    for command in all_commands(version):
        assert validate(version, command.action, "request", command.payload) is None, command


def test_versions_spell_commands_their_own_way() -> None:
    assert commands.remote_start("1.6", "T", remote_start_id=1, evse_id=2,
                                 charging_profile=None) == Command(
        "RemoteStartTransaction", {"idTag": "T", "connectorId": 2})
    assert commands.reset("1.6", "OnIdle", None).payload == {"type": "Soft"}
    assert commands.remote_stop("1.6", "42").payload == {"transactionId": 42}
    assert commands.remote_stop("2.0.1", "abc").payload == {"transactionId": "abc"}
    assert len(commands.set_variables("1.6", [("", "A", "1"), ("", "B", "2")])) == 2
    assert commands.limit_profile("2.0.1", profile_id=1, evse_id=0, limit=1, unit="W")[
        "chargingProfilePurpose"] == "ChargingStationMaxProfile"
    assert commands.limit_profile("1.6", profile_id=1, evse_id=0, limit=1, unit="W")[
        "chargingProfilePurpose"] == "ChargePointMaxProfile"


def test_a_non_numeric_16_transaction_id_is_left_for_validation() -> None:
    command = commands.remote_stop("1.6", "abc")
    failure = validate("1.6", command.action, "request", command.payload)
    assert failure is not None
    assert "payload.transactionId" in invalid_payload_detail(command.action, "1.6",
                                                             failure.description)


def test_failures_map_to_documented_statuses() -> None:
    cases = [
        (UnknownClient("no route to CS-1"), 404, "unknown_station"),
        (CallErrorReceived("NotSupported", "no thanks", {"x": 1}), 502, "call_error"),
        (CallTimeout("late"), 504, "timeout"),
        (ConnectionClosed("gone"), 502, "connection_closed"),
        (FormatViolation("response.status: required"), 502, "invalid_response"),
    ]
    for exc, status, error in cases:
        answer = failure_for("CS-1", "Reset", exc, 2.0)
        assert (answer.status, answer.error) == (status, error), exc
    error = failure_for("CS-1", "Reset", CallErrorReceived("NotSupported", "no thanks"), None)
    assert error.detail == "station CS-1 answered Reset with CALLERROR NotSupported: no thanks"
    assert error.extra["errorCode"] == "NotSupported"
    late = failure_for("CS-1", "Reset", CallTimeout("late"), 2.0)
    assert late.detail == "station CS-1 did not answer Reset within 2s"
