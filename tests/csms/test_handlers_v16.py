"""OCPP 1.6 handlers: CSMS-assigned transaction ids, string meter values, idTagInfo."""

from __future__ import annotations

from datetime import timedelta

from ocppnet.csms import CsmsApp
from ocppnet.store import IdTokenRecord

from .conftest import T0, send


async def test_boot_heartbeat_status(app: CsmsApp) -> None:
    r = await send(app, "1.6", "CP1", "BootNotification", {
        "chargePointVendor": "ACME", "chargePointModel": "Slow-1",
        "chargePointSerialNumber": "SN1", "firmwareVersion": "0.9"})
    assert r == {"status": "Accepted", "interval": 60, "currentTime": "2025-03-01T12:00:00.000Z"}
    station = await app.store.get_station("CP1")
    assert station is not None
    assert (station.vendor, station.model, station.ocpp_version) == ("ACME", "Slow-1", "1.6")
    assert await send(app, "1.6", "CP1", "Heartbeat", {}) == {
        "currentTime": "2025-03-01T12:00:00.000Z"}
    await send(app, "1.6", "CP1", "StatusNotification",
               {"connectorId": 1, "errorCode": "NoError", "status": "Charging"})
    await send(app, "1.6", "CP1", "StatusNotification",
               {"connectorId": 2, "errorCode": "GroundFailure", "status": "Faulted",
                "timestamp": "2025-03-01T12:00:07Z"})
    rows = await app.store.list_connectors("CP1")
    assert [(c.evse_id, c.connector_id, c.status, c.error_code) for c in rows] == [
        (1, 1, "Charging", None), (2, 2, "Faulted", "GroundFailure")]
    assert rows[0].updated_at == T0 and rows[1].updated_at == T0 + timedelta(seconds=7)


async def test_authorize_maps_statuses_to_1_6(app: CsmsApp) -> None:
    await app.store.put_id_token(IdTokenRecord("POOR", "NoCredit"))
    await app.store.put_id_token(IdTokenRecord("LATER", "Accepted", expiry=T0 + timedelta(days=1)))

    async def info(tag: str) -> dict[str, object]:
        r = await send(app, "1.6", "CP1", "Authorize", {"idTag": tag})
        return dict(r["idTagInfo"])

    assert await info("GOOD") == {"status": "Accepted"}
    assert await info("BAD") == {"status": "Blocked"}
    assert await info("POOR") == {"status": "Invalid"}  # NoCredit does not exist in 1.6
    assert await info("NOBODY") == {"status": "Invalid"}
    assert await info("LATER") == {"status": "Accepted", "expiryDate": "2025-03-02T12:00:00.000Z"}


async def test_transaction_ids_are_assigned_and_energy_computed(app: CsmsApp) -> None:
    start = {"connectorId": 1, "idTag": "GOOD", "meterStart": 1200,
             "timestamp": "2025-03-01T12:00:00Z"}
    r1 = await send(app, "1.6", "CP1", "StartTransaction", start)
    r2 = await send(app, "1.6", "CP2", "StartTransaction", {**start, "idTag": "BAD"})
    assert r1["idTagInfo"] == {"status": "Accepted"} and r2["idTagInfo"] == {"status": "Blocked"}
    tx_id = r1["transactionId"]
    assert isinstance(tx_id, int) and tx_id != r2["transactionId"]
    await send(app, "1.6", "CP1", "MeterValues", {
        "connectorId": 1, "transactionId": tx_id, "meterValue": [{
            "timestamp": "2025-03-01T12:05:00Z", "sampledValue": [
                {"value": "1.5", "unit": "kWh", "measurand": "Energy.Active.Import.Register"},
                {"value": "deadbeef", "format": "SignedData"},
                {"value": "230.1", "measurand": "Voltage", "unit": "V", "phase": "L1-N"}]}]})
    tx = await app.store.get_transaction("CP1", str(tx_id))
    assert tx is not None and tx.energy_wh == 300.0 and tx.state == "active"
    r = await send(app, "1.6", "CP1", "StopTransaction", {
        "transactionId": tx_id, "meterStop": 4200, "timestamp": "2025-03-01T13:00:00Z",
        "idTag": "GOOD", "reason": "EVDisconnected", "transactionData": [{
            "timestamp": "2025-03-01T13:00:00Z",
            "sampledValue": [{"value": "4200", "context": "Transaction.End"}]}]})
    assert r == {"idTagInfo": {"status": "Accepted"}}
    tx = await app.store.get_transaction("CP1", str(tx_id))
    assert tx is not None
    assert (tx.state, tx.meter_start, tx.meter_stop, tx.energy_wh) == (
        "ended", 1200.0, 4200.0, 3000.0)
    assert tx.stopped_at == T0 + timedelta(hours=1) and tx.stop_reason == "EVDisconnected"
    samples = await app.store.list_meter_samples(tx.key)
    assert [s.value for s in samples] == [1.5, None, 230.1, 4200.0]
    assert samples[1].signed_data == {"format": "SignedData", "value": "deadbeef"}
    assert samples[3].context == "Transaction.End"


async def test_stop_of_an_unknown_transaction_is_still_answered(app: CsmsApp) -> None:
    r = await send(app, "1.6", "CP1", "StopTransaction",
                   {"transactionId": 999, "meterStop": 1, "timestamp": "2025-03-01T13:00:00Z"})
    assert r == {}
    assert await app.store.list_transactions("CP1") == []


async def test_security_event_and_data_transfer(app: CsmsApp) -> None:
    assert await send(app, "1.6", "CP1", "SecurityEventNotification",
                      {"type": "StartupOfTheDevice", "timestamp": "2025-03-01T12:00:00Z"}) == {}
    assert await send(app, "1.6", "CP1", "DataTransfer", {"vendorId": "x", "data": "y"}) == {
        "status": "UnknownVendorId"}
    kinds = [e.kind for e in await app.store.list_station_events("CP1")]
    assert kinds == ["SecurityEvent", "DataTransfer"]
