"""OCPP 2.0.1 / 2.1 handlers: what is stored, what is answered (schema-valid), what is published."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ocppnet.csms import CsmsApp, EnergyChanged, MessageSeen, StationChanged
from ocppnet.errors import NotImplementedAction
from ocppnet.store import IdTokenRecord

from .conftest import T0, Clock, FakeContext, send

VERSIONS = ["2.0.1", "2.1"]


def boot_payload() -> dict[str, Any]:
    return {
        "reason": "PowerUp",
        "chargingStation": {"vendorName": "ACME", "model": "Fast-1", "serialNumber": "SN-7",
                            "firmwareVersion": "1.2.3"},
    }


def tx_event(event: str, seq: int, energy: float | None, **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "eventType": event,
        "timestamp": (T0 + timedelta(minutes=seq)).isoformat(),
        "triggerReason": {"Started": "Authorized", "Updated": "MeterValuePeriodic",
                          "Ended": "EVDeparted"}[event],
        "seqNo": seq,
        "transactionInfo": {"transactionId": "TX-1", **extra.pop("info", {})},
        **extra,
    }
    if energy is not None:
        payload["meterValue"] = [{
            "timestamp": payload["timestamp"],
            "sampledValue": [
                {"value": energy, "measurand": "Energy.Active.Import.Register",
                 "context": "Sample.Periodic", "unitOfMeasure": {"unit": "kWh"}},
                {"value": 11000.0, "measurand": "Power.Active.Import"},
            ],
        }]
    return payload


@pytest.mark.parametrize("version", VERSIONS)
async def test_boot_is_accepted_and_stored(app: CsmsApp, version: str) -> None:
    sub = app.bus.subscribe()
    response = await send(app, version, "CS1", "BootNotification", boot_payload(),
                          path=("CS1", "node-a"))
    assert response == {"status": "Accepted", "interval": 60,
                        "currentTime": "2025-03-01T12:00:00.000Z"}
    station = await app.store.get_station("CS1")
    assert station is not None
    assert (station.vendor, station.model, station.serial_number, station.firmware) == (
        "ACME", "Fast-1", "SN-7", "1.2.3")
    assert (station.ocpp_version, station.boot_status, station.boot_reason) == (
        version, "Accepted", "PowerUp")
    assert station.connected and station.path == ("CS1", "node-a")
    events = [sub.get_nowait() for _ in range(sub.pending())]
    assert [type(e) for e in events] == [MessageSeen, StationChanged, MessageSeen]
    incoming, change, outgoing = events
    assert isinstance(incoming, MessageSeen) and isinstance(outgoing, MessageSeen)
    assert (incoming.direction, incoming.message_type, incoming.action) == ("in", 2,
                                                                           "BootNotification")
    assert (outgoing.direction, outgoing.message_type) == ("out", 3)
    assert incoming.path == ("CS1", "node-a") and incoming.signature == "unsigned"
    assert isinstance(change, StationChanged) and change.boot_status == "Accepted"
    await app.store.flush()
    log = await app.store.list_messages("CS1")
    assert [(m.direction, m.message_type) for m in log] == [("out", 3), ("in", 2)]
    assert all(m.payload_size > 0 for m in log)


@pytest.mark.parametrize("version", VERSIONS)
async def test_heartbeat_updates_last_seen(app: CsmsApp, clock: Clock, version: str) -> None:
    await send(app, version, "CS1", "BootNotification", boot_payload())
    clock.now = T0 + timedelta(seconds=90)
    response = await send(app, version, "CS1", "Heartbeat", {})
    assert response == {"currentTime": "2025-03-01T12:01:30.000Z"}
    station = await app.store.get_station("CS1")
    assert station is not None and station.last_seen == clock.now


@pytest.mark.parametrize("version", VERSIONS)
async def test_status_notification_is_stored(app: CsmsApp, version: str) -> None:
    await send(app, version, "CS1", "StatusNotification", {
        "timestamp": "2025-03-01T12:00:05Z", "connectorStatus": "Occupied",
        "evseId": 1, "connectorId": 1})
    [c] = await app.store.list_connectors("CS1")
    assert (c.evse_id, c.connector_id, c.status) == (1, 1, "Occupied")
    assert c.updated_at == T0 + timedelta(seconds=5)


@pytest.mark.parametrize("version", VERSIONS)
async def test_authorize_known_unknown_blocked_expired(
    app: CsmsApp, clock: Clock, version: str
) -> None:
    await app.store.put_id_token(IdTokenRecord("OLD", "Accepted", expiry=T0 - timedelta(days=1)))

    async def status(token: str) -> str:
        r = await send(app, version, "CS1", "Authorize",
                       {"idToken": {"idToken": token, "type": "ISO14443"}})
        return str(r["idTokenInfo"]["status"])

    assert [await status(t) for t in ("GOOD", "BAD", "OLD", "WHO")] == [
        "Accepted", "Blocked", "Expired", "Invalid"]
    app.core.config = app.core.config.model_copy(update={"accept_unknown_tokens": True})
    assert await status("WHO") == "Accepted"


@pytest.mark.parametrize("version", VERSIONS)
async def test_transaction_started_updated_ended(app: CsmsApp, version: str) -> None:
    sub = app.bus.subscribe()
    token = {"idToken": "GOOD", "type": "ISO14443"}
    r = await send(app, version, "CS1", "TransactionEvent",
                   tx_event("Started", 0, 10.0, idToken=token,
                            evse={"id": 1, "connectorId": 1}, info={"remoteStartId": 3}))
    assert r == {"idTokenInfo": {"status": "Accepted"}}
    r = await send(app, version, "CS1", "TransactionEvent", tx_event("Updated", 1, 12.5))
    assert r == {}
    r = await send(app, version, "CS1", "TransactionEvent",
                   tx_event("Ended", 2, 17.0, info={"stoppedReason": "EVDisconnected"}))
    [tx] = await app.store.list_transactions("CS1")
    assert (tx.transaction_id, tx.evse_id, tx.connector_id, tx.id_token) == ("TX-1", 1, 1, "GOOD")
    assert tx.remote_start_id == 3 and tx.state == "ended"
    assert (tx.meter_start, tx.meter_stop, tx.energy_wh) == (10_000.0, 17_000.0, 7_000.0)
    assert tx.started_at == T0 and tx.stopped_at == T0 + timedelta(minutes=2)
    assert tx.stop_reason == "EVDisconnected"
    samples = await app.store.list_meter_samples(tx.key)
    assert len(samples) == 6
    energy = [s for s in samples if s.measurand == "Energy.Active.Import.Register"]
    assert [s.value for s in energy] == [10.0, 12.5, 17.0] and energy[0].unit == "kWh"
    published = [e for e in (sub.get_nowait() for _ in range(sub.pending()))
                 if isinstance(e, EnergyChanged)]
    assert [(e.state, e.energy_wh) for e in published] == [
        ("active", 0.0), ("active", 2500.0), ("ended", 7000.0)]


@pytest.mark.parametrize("version", VERSIONS)
async def test_transaction_first_seen_at_ended_is_still_stored(
    app: CsmsApp, version: str
) -> None:
    await send(app, version, "CS1", "TransactionEvent", tx_event("Ended", 5, None))
    [tx] = await app.store.list_transactions("CS1")
    assert tx.state == "ended" and tx.stop_reason == "Local" and tx.energy_wh is None


@pytest.mark.parametrize("version", VERSIONS)
async def test_meter_values_attach_to_the_active_transaction(
    app: CsmsApp, version: str
) -> None:
    await send(app, version, "CS1", "TransactionEvent",
               tx_event("Started", 0, 1.0, evse={"id": 2}))
    await send(app, version, "CS1", "MeterValues", {"evseId": 2, "meterValue": [{
        "timestamp": "2025-03-01T12:10:00Z",
        "sampledValue": [{"value": 3.0, "unitOfMeasure": {"unit": "Wh", "multiplier": 3}}]}]})
    await send(app, version, "CS1", "MeterValues", {"evseId": 9, "meterValue": [{
        "timestamp": "2025-03-01T12:10:00Z", "sampledValue": [{"value": 1.0}]}]})
    [tx] = await app.store.list_transactions("CS1")
    assert tx.energy_wh == 2000.0
    assert [s.value for s in await app.store.list_meter_samples(tx.key)] == [1.0, 11000.0, 3000.0]


@pytest.mark.parametrize("version", VERSIONS)
async def test_reports_and_events_are_kept(app: CsmsApp, version: str) -> None:
    await send(app, version, "CS1", "SecurityEventNotification",
               {"type": "FirmwareUpdated", "timestamp": "2025-03-01T12:00:00Z"})
    await send(app, version, "CS1", "NotifyEvent", {
        "generatedAt": "2025-03-01T12:00:00Z", "seqNo": 0, "eventData": [{
            "eventId": 1, "timestamp": "2025-03-01T12:00:00Z", "trigger": "Alerting",
            "actualValue": "1", "eventNotificationType": "HardWiredNotification",
            "component": {"name": "EVSE"}, "variable": {"name": "Problem"}}]})
    await send(app, version, "CS1", "NotifyReport",
               {"requestId": 1, "generatedAt": "2025-03-01T12:00:00Z", "seqNo": 0})
    events = await app.store.list_station_events("CS1")
    assert [e.kind for e in events] == ["SecurityEvent", "NotifyEvent", "NotifyReport"]
    assert events[0].data["type"] == "FirmwareUpdated"


async def test_data_transfer_answers_unknown_vendor(app: CsmsApp) -> None:
    r = await send(app, "2.0.1", "CS1", "DataTransfer", {"vendorId": "com.example"})
    assert r == {"status": "UnknownVendorId"}


async def test_a_1_6_only_action_on_a_2_0_1_link_is_not_implemented(app: CsmsApp) -> None:
    handler = app.handlers.get("StartTransaction")
    assert handler is not None
    with pytest.raises(NotImplementedAction):
        await handler(FakeContext("CS1", "2.0.1", "StartTransaction"), {})  # type: ignore[arg-type]
    await app.store.flush()
    assert [m.message_type for m in await app.store.list_messages("CS1")] == [4, 2]
