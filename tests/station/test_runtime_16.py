"""A 1.6 station against a loopback CSMS: the CSMS's transactionId travels into later messages."""

from collections.abc import Callable

import pytest

from ocppnet.station.model import StationConfig
from ocppnet.station.runtime import SimulatedStation
from tests.station.conftest import MiniCsms, make_station

Start = Callable[[SimulatedStation], SimulatedStation]


def power_values(csms: MiniCsms) -> list[float]:
    return [float(sv["value"]) for p in csms.of("MeterValues") for mv in p["meterValue"]
            for sv in mv["sampledValue"] if sv["measurand"] == "Power.Active.Import"]


async def test_remote_start_profile_in_amperes_and_remote_stop(
        csms: MiniCsms, running: Start) -> None:
    station = running(make_station(csms, "1.6"))
    await csms.wait_for(lambda: station.accepted)
    assert csms.of("BootNotification")[0]["chargePointModel"] == "SimStation"
    assert await csms.call("CS-1", "RemoteStartTransaction", {"idTag": "TAG1"}) == {
        "status": "Accepted"}
    start = (await csms.wait_for(lambda: csms.of("StartTransaction")))[0]
    assert start["connectorId"] == 1 and start["idTag"] == "TAG1"
    await csms.wait_for(lambda: csms.of("MeterValues"))
    assert {p["transactionId"] for p in csms.of("MeterValues")} == {100}
    answer = await csms.call("CS-1", "SetChargingProfile", {"connectorId": 1,
        "csChargingProfiles": {"chargingProfileId": 1, "stackLevel": 0,
                               "chargingProfilePurpose": "TxProfile", "transactionId": 100,
                               "chargingProfileKind": "Relative", "chargingSchedule": {
                                   "chargingRateUnit": "A", "chargingSchedulePeriod": [
                                       {"startPeriod": 0, "limit": 10.0}]}}})
    assert answer == {"status": "Accepted"}
    await csms.wait_for(lambda: 6_900.0 in power_values(csms))  # 10 A * 230 V * 3 phases
    assert (await csms.call("CS-1", "RemoteStopTransaction", {"transactionId": 999}))[
        "status"] == "Rejected"
    assert await csms.call("CS-1", "RemoteStopTransaction", {"transactionId": 100}) == {
        "status": "Accepted"}
    stop = (await csms.wait_for(lambda: csms.of("StopTransaction")))[0]
    assert stop["transactionId"] == 100 and stop["reason"] == "Remote"
    assert stop["meterStop"] >= start["meterStart"]
    statuses = [s["status"] for s in csms.of("StatusNotification")]
    assert statuses[:3] == ["Available", "Preparing", "Charging"]
    await csms.wait_for(lambda: "Finishing" in [s["status"] for s in csms.of("StatusNotification")])


async def test_offline_start_is_delivered_first_and_its_id_reused(
        csms: MiniCsms, running: Start) -> None:
    station = running(make_station(csms, "1.6"))
    await csms.wait_for(lambda: station.accepted)
    await csms.stop()
    await csms.wait_for(lambda: not station.online)
    assert await station.present_token(1, "OFFLINE1")  # accepted locally while offline
    from ocppnet.station.ev import ElectricVehicle
    station.apply(station.model.plug_in(1, ElectricVehicle(), station.clock.now()))
    await csms.wait_for(lambda: len(station.queue) >= 3)
    station.apply(station.model.stop(1, "Local", station.clock.now()))
    await csms.start()
    stop = (await csms.wait_for(lambda: csms.of("StopTransaction")))[0]
    actions = [a for _, a, _ in csms.received if a in
               ("StartTransaction", "MeterValues", "StopTransaction")]
    assert actions[0] == "StartTransaction" and actions[-1] == "StopTransaction"
    assert {p["transactionId"] for p in csms.of("MeterValues")} == {stop["transactionId"]}


async def test_configuration_and_trigger(csms: MiniCsms, running: Start) -> None:
    station = running(make_station(csms, "1.6"))
    await csms.wait_for(lambda: station.accepted)
    conf = await csms.call("CS-1", "GetConfiguration", {"key": ["HeartbeatInterval", "Nope"]})
    assert conf == {"configurationKey": [{"key": "HeartbeatInterval", "readonly": False,
                                          "value": "600"}], "unknownKey": ["Nope"]}
    for key, value, status in [("MeterValueSampleInterval", "15", "Accepted"),
                               ("NumberOfConnectors", "3", "Rejected"),
                               ("HeartbeatInterval", "soon", "Rejected"),
                               ("Unknown", "1", "NotSupported")]:
        answer = await csms.call("CS-1", "ChangeConfiguration", {"key": key, "value": value})
        assert answer == {"status": status}
    assert station.tunables.meter_interval_s == 15
    n = len(csms.of("StatusNotification"))
    assert (await csms.call("CS-1", "TriggerMessage", {"requestedMessage": "StatusNotification"}
                            ))["status"] == "Accepted"
    await csms.wait_for(lambda: len(csms.of("StatusNotification")) > n)
    assert (await csms.call("CS-1", "TriggerMessage", {"requestedMessage": "MeterValues",
                                                       "connectorId": 1}))["status"] == "Accepted"
    await csms.wait_for(lambda: csms.of("MeterValues"))
    assert await csms.call("CS-1", "Reset", {"type": "Soft"}) == {"status": "Accepted"}
    await csms.wait_for(lambda: len(csms.of("BootNotification")) == 2)


def test_16_needs_one_connector_per_evse(csms: MiniCsms) -> None:
    from ocppnet.station.scenario import Scenario
    with pytest.raises(ValueError, match="one connector per EVSE"):
        SimulatedStation("X", csms.url, version="1.6", scenario=Scenario(),
                         config=StationConfig(connectors_per_evse=2))
