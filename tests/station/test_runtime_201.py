"""A 2.0.1/2.1 station against a loopback CSMS: boot, sessions, profiles, remote stop, offline."""

from collections.abc import Callable
from typing import Any

import pytest

from ocppnet.station.ev import ElectricVehicle
from ocppnet.station.runtime import SimulatedStation
from tests.station.conftest import MiniCsms, make_station

Start = Callable[[SimulatedStation], SimulatedStation]


def powers(events: list[dict[str, Any]]) -> list[float]:
    return [sv["value"] for e in events for mv in e.get("meterValue", [])
            for sv in mv["sampledValue"] if sv["measurand"] == "Power.Active.Import"]


def energies(events: list[dict[str, Any]]) -> list[float]:
    return [sv["value"] for e in events for mv in e.get("meterValue", [])
            for sv in mv["sampledValue"] if sv["measurand"] == "Energy.Active.Import.Register"]


async def start_session(csms: MiniCsms, station: SimulatedStation) -> str:
    await csms.wait_for(lambda: station.accepted)
    station.apply(station.model.plug_in(1, ElectricVehicle(max_power_w=11_000),
                                        station.clock.now()))
    assert await station.present_token(1, "TOKEN1")
    started = await csms.wait_for(lambda: [e for e in csms.of("TransactionEvent")
                                           if e["eventType"] == "Started"])
    return str(started[0]["transactionInfo"]["transactionId"])


async def test_boot_retries_after_pending_interval_then_reports_status(
        csms: MiniCsms, running: Start) -> None:
    csms.boot_answers = [("Pending", 2), ("Rejected", 1)]
    station = running(make_station(csms))
    await csms.wait_for(lambda: csms.of("StatusNotification"))
    boots = csms.of("BootNotification")
    assert len(boots) == 3 and boots[0]["reason"] == "PowerUp"
    assert csms.of("StatusNotification")[0]["connectorStatus"] == "Available"
    assert station.stats.boots_accepted == 1 and station.stats.errors == 0


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
async def test_session_with_periodic_meter_values(
        csms: MiniCsms, running: Start, version: str) -> None:
    station = running(make_station(csms, version))
    tx = await start_session(csms, station)
    await csms.wait_for(lambda: len(csms.of("TransactionEvent")) >= 4)
    station.apply(station.model.stop(1, "Local", station.clock.now()))
    await csms.wait_for(lambda: any(e["eventType"] == "Ended" for e in csms.of("TransactionEvent")))
    events = csms.of("TransactionEvent")
    assert [e["seqNo"] for e in events] == list(range(len(events)))
    assert {e["transactionInfo"]["transactionId"] for e in events} == {tx}
    assert any(e["triggerReason"] == "MeterValuePeriodic" for e in events)
    assert energies(events) == sorted(energies(events)) and energies(events)[-1] > 0
    assert events[-1]["transactionInfo"]["stoppedReason"] == "Local"
    statuses = [s["connectorStatus"] for s in csms.of("StatusNotification")]
    assert statuses[:2] == ["Available", "Occupied"]
    assert csms.of("Authorize")[0]["idToken"]["idToken"] == "TOKEN1"


async def test_charging_profile_from_csms_limits_power(csms: MiniCsms, running: Start) -> None:
    station = running(make_station(csms))
    tx = await start_session(csms, station)
    await csms.wait_for(lambda: 11_000.0 in powers(csms.of("TransactionEvent")))
    answer = await csms.call("CS-1", "SetChargingProfile", {"evseId": 1, "chargingProfile": {
        "id": 5, "stackLevel": 1, "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative", "transactionId": tx,
        "chargingSchedule": [{"id": 1, "chargingRateUnit": "A", "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": 6.0, "numberPhases": 1}]}]}})
    assert answer == {"status": "Accepted"}
    assert station.model.evses[1].power_w == pytest.approx(6 * 230)
    await csms.wait_for(lambda: 1_380.0 in powers(csms.of("TransactionEvent")))
    after = powers(csms.of("TransactionEvent"))
    assert after[after.index(1_380.0):] == [1_380.0] * len(after[after.index(1_380.0):])
    refused = await csms.call("CS-1", "SetChargingProfile", {"evseId": 1, "chargingProfile": {
        "id": 6, "stackLevel": 1, "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative", "transactionId": "not-mine",
        "chargingSchedule": [{"id": 1, "chargingRateUnit": "W", "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": 1.0}]}]}})
    assert refused["status"] == "Rejected" and refused["statusInfo"]["reasonCode"] == "TxNotFound"
    cleared = await csms.call("CS-1", "ClearChargingProfile", {"chargingProfileId": 5})
    assert cleared == {"status": "Accepted"}
    assert station.model.evses[1].power_w == 11_000


async def test_remote_start_and_stop(csms: MiniCsms, running: Start) -> None:
    station = running(make_station(csms))
    await csms.wait_for(lambda: station.accepted)
    answer = await csms.call("CS-1", "RequestStartTransaction", {
        "idToken": {"idToken": "REMOTE", "type": "Central"}, "remoteStartId": 77, "evseId": 1})
    assert answer == {"status": "Accepted"}
    started = (await csms.wait_for(lambda: csms.of("TransactionEvent")))[0]
    assert started["triggerReason"] == "RemoteStart"
    assert started["transactionInfo"]["remoteStartId"] == 77
    busy = await csms.call("CS-1", "RequestStartTransaction", {
        "idToken": {"idToken": "REMOTE", "type": "Central"}, "remoteStartId": 78, "evseId": 1})
    assert busy["status"] == "Rejected"
    tx = started["transactionInfo"]["transactionId"]
    assert (await csms.call("CS-1", "RequestStopTransaction", {"transactionId": "nope"}))[
        "status"] == "Rejected"
    assert await csms.call("CS-1", "RequestStopTransaction", {"transactionId": tx}) == {
        "status": "Accepted"}
    ended = await csms.wait_for(lambda: [e for e in csms.of("TransactionEvent")
                                         if e["eventType"] == "Ended"])
    assert ended[0]["triggerReason"] == "RemoteStop"
    assert ended[0]["transactionInfo"]["stoppedReason"] == "Remote"
    await csms.wait_for(lambda: csms.of("StatusNotification")[-1]["connectorStatus"]
                        == "Available")


async def test_offline_transaction_events_are_delivered_in_order(
        csms: MiniCsms, running: Start) -> None:
    station = running(make_station(csms))
    await start_session(csms, station)
    await csms.stop()
    await csms.wait_for(lambda: not station.online)
    online_count = len(csms.of("TransactionEvent"))
    await csms.wait_for(lambda: len(station.queue) >= 3)  # periodic samples pile up
    station.apply(station.model.stop(1, "Local", station.clock.now()))
    queued = len(station.queue)
    await csms.start()  # same port: the station reconnects with its back-off
    await csms.wait_for(lambda: any(e["eventType"] == "Ended"
                                    for e in csms.of("TransactionEvent")))
    events = csms.of("TransactionEvent")
    assert [e["seqNo"] for e in events] == list(range(len(events)))
    offline = events[online_count:online_count + queued]
    assert offline and all(e.get("offline") is True for e in offline)
    assert offline[-1]["eventType"] == "Ended"
    assert station.stats.queued_offline >= queued
    assert energies(events) == sorted(energies(events))


async def test_variables_trigger_and_reset(csms: MiniCsms, running: Start) -> None:
    station = running(make_station(csms))
    await csms.wait_for(lambda: station.accepted)
    got = await csms.call("CS-1", "GetVariables", {"getVariableData": [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
        {"component": {"name": "Nope"}, "variable": {"name": "X"}}]})
    assert [r["attributeStatus"] for r in got["getVariableResult"]] == [
        "Accepted", "UnknownComponent"]
    assert got["getVariableResult"][0]["attributeValue"] == "600"
    put = await csms.call("CS-1", "SetVariables", {"setVariableData": [
        {"component": {"name": "SampledDataCtrlr"}, "variable": {"name": "TxUpdatedInterval"},
         "attributeValue": "30"},
        {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "Identity"},
         "attributeValue": "x"}]})
    assert [r["attributeStatus"] for r in put["setVariableResult"]] == ["Accepted", "Rejected"]
    assert station.tunables.meter_interval_s == 30
    assert (await csms.call("CS-1", "TriggerMessage", {"requestedMessage": "Heartbeat"}))[
        "status"] == "Accepted"
    await csms.wait_for(lambda: csms.of("Heartbeat"))
    assert (await csms.call("CS-1", "TriggerMessage", {"requestedMessage": "LogStatusNotification"
                                                       }))["status"] == "NotImplemented"
    await start_session(csms, station)
    assert await csms.call("CS-1", "Reset", {"type": "Immediate"}) == {"status": "Accepted"}
    await csms.wait_for(lambda: len(csms.of("BootNotification")) == 2)
    assert csms.of("BootNotification")[1]["reason"] == "RemoteReset"
    ended = [e for e in csms.of("TransactionEvent") if e["eventType"] == "Ended"]
    assert ended[0]["transactionInfo"]["stoppedReason"] == "ImmediateReset"
