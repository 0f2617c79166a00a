"""At-least-once on the wire, exactly-once in the store: every station message the CSMS
stores is stored once however often it arrives, and a repeat gets the same answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ocppnet.csms import CsmsApp, EnergyChanged
from ocppnet.csms.natural_keys import (
    meter_values_key,
    start_transaction_key,
    stop_transaction_key,
    transaction_event_key,
)

from .conftest import T0, send


def tx_event(kind: str, seq: int, kwh: float) -> dict[str, Any]:
    at = (T0 + timedelta(minutes=seq)).isoformat()
    return {"eventType": kind, "timestamp": at, "seqNo": seq,
            "triggerReason": {"Started": "Authorized", "Updated": "MeterValuePeriodic",
                              "Ended": "EVDeparted"}[kind],
            "transactionInfo": {"transactionId": "TX-1"}, "evse": {"id": 1, "connectorId": 1},
            "idToken": {"idToken": "GOOD", "type": "ISO14443"},
            "meterValue": [{"timestamp": at, "sampledValue": [
                {"value": kwh, "unitOfMeasure": {"unit": "kWh"}}]}]}


def test_natural_keys() -> None:
    assert transaction_event_key("CS1", tx_event("Updated", 7, 1.0)).key == "TX-1/7"
    start = {"connectorId": 1, "idTag": "A", "timestamp": "t", "meterStart": 5}
    assert start_transaction_key("CS1", start).key == "1/A/t/5"
    assert stop_transaction_key("CS1", {"transactionId": 9}).key == "9"
    one = {"evseId": 1, "meterValue": [{"timestamp": "t", "sampledValue": [{"value": 1}]}]}
    other = {"evseId": 1, "meterValue": [{"timestamp": "t", "sampledValue": [{"value": 2}]}]}
    assert meter_values_key("CS1", one) == meter_values_key("CS1", dict(one))
    assert meter_values_key("CS1", one) != meter_values_key("CS1", other)


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
async def test_transaction_events_repeated_are_stored_once(app: CsmsApp, version: str) -> None:
    sub = app.bus.subscribe()
    events = [tx_event("Started", 0, 5.0), tx_event("Updated", 1, 6.0),
              tx_event("Ended", 2, 7.5)]
    first = [await send(app, version, "CS1", "TransactionEvent", e) for e in events]
    again = [await send(app, version, "CS1", "TransactionEvent", e) for e in events[::-1]]
    assert again == first[::-1]  # the station gets its answer each time
    [tx] = await app.store.list_transactions("CS1")
    assert (tx.state, tx.energy_wh, tx.meter_stop) == ("ended", 2500.0, 7500.0)
    samples = await app.store.list_meter_samples(tx.key)
    assert [s.value for s in samples] == [5.0, 6.0, 7.5]
    energy = []
    while (event := sub.get_nowait()) is not None:
        if isinstance(event, EnergyChanged):
            energy.append(event.energy_wh)
    assert energy == [0.0, 1000.0, 2500.0]  # repeats publish nothing


async def test_16_start_stop_meter_values_repeated_are_stored_once(app: CsmsApp) -> None:
    start = {"connectorId": 1, "idTag": "GOOD", "meterStart": 1000,
             "timestamp": T0.isoformat()}
    first = await send(app, "1.6", "CS1", "StartTransaction", start)
    assert await send(app, "1.6", "CS1", "StartTransaction", start) == first  # same id
    tx_id = first["transactionId"]
    values = {"connectorId": 1, "transactionId": tx_id, "meterValue": [
        {"timestamp": (T0 + timedelta(minutes=1)).isoformat(),
         "sampledValue": [{"value": "1500", "unit": "Wh"}]}]}
    for _ in range(3):
        assert await send(app, "1.6", "CS1", "MeterValues", values) == {}
    stop = {"transactionId": tx_id, "meterStop": 2000, "reason": "Local",
            "timestamp": (T0 + timedelta(minutes=2)).isoformat(), "idTag": "GOOD",
            "transactionData": [{"timestamp": (T0 + timedelta(minutes=2)).isoformat(),
                                 "sampledValue": [{"value": "2000", "unit": "Wh"}]}]}
    answer = await send(app, "1.6", "CS1", "StopTransaction", stop)
    assert await send(app, "1.6", "CS1", "StopTransaction", stop) == answer
    [tx] = await app.store.list_transactions("CS1")
    assert (tx.state, tx.energy_wh) == ("ended", 1000.0)
    assert [s.value for s in await app.store.list_meter_samples(tx.key)] == [1500.0, 2000.0]
    # a new start (other time) is a new transaction
    later = dict(start, timestamp=(T0 + timedelta(hours=1)).isoformat())
    assert (await send(app, "1.6", "CS1", "StartTransaction", later))["transactionId"] != tx_id


TAMPER = {"type": "TamperDetected", "timestamp": "2025-03-01T12:00:00Z"}


@pytest.mark.parametrize(("version", "action", "payload"), [
    ("2.0.1", "SecurityEventNotification", TAMPER),
    ("2.0.1", "NotifyEvent", {"generatedAt": "2025-03-01T12:00:00Z", "seqNo": 0, "eventData": [
        {"eventId": 1, "timestamp": "2025-03-01T12:00:00Z", "trigger": "Alerting",
         "actualValue": "1", "eventNotificationType": "HardWiredNotification",
         "component": {"name": "EVSE"}, "variable": {"name": "Problem"}}]}),
    ("1.6", "SecurityEventNotification", TAMPER),
])
async def test_station_events_repeated_are_stored_once(
    app: CsmsApp, version: str, action: str, payload: dict[str, Any]
) -> None:
    for _ in range(3):
        assert await send(app, version, "CS1", action, payload) == {}
    later = dict(payload, timestamp="2025-03-01T12:05:00Z") if "timestamp" in payload else dict(
        payload, seqNo=1)
    await send(app, version, "CS1", action, later)
    assert len(await app.store.list_station_events("CS1")) == 2
