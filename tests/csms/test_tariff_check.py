"""The CSMS recomputes a 2.1 station's reported cost from the meter values it stored."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from ocppnet.csms import CsmsApp
from ocppnet.csms.tariff_check import receipt_lines
from ocppnet.security.context import SecurityContext
from ocppnet.security.keys import KeyPair
from ocppnet.security.roles import RoleSet
from ocppnet.security.trust import TrustStore
from ocppnet.tariffs import (
    compute_cost,
    parse_tariff,
    sign_tariff,
    tariff_hash,
)
from ocppnet.tariffs import readings_from_meter_values as readings_of
from ocppnet.tariffs.signing import VENDOR_ID

from .conftest import T0, send

TARIFF = {"tariffId": "T1", "currency": "EUR", "energy": {"prices": [{"priceKwh": 0.30}]},
          "fixedFee": {"prices": [{"priceFixed": 1.0}]}}


def iso(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def event(kind: str, seq: int, minutes: int, wh: float, readings: list[Any],
          tariff: dict[str, Any] | None = None) -> dict[str, Any]:
    mv = [{"timestamp": iso(minutes), "sampledValue": [
        {"value": wh, "measurand": "Energy.Active.Import.Register",
         "unitOfMeasure": {"unit": "Wh"}}]}]
    readings.extend(readings_of(mv))
    payload: dict[str, Any] = {
        "eventType": kind, "timestamp": iso(minutes), "seqNo": seq,
        "triggerReason": "Authorized" if kind == "Started" else "MeterValuePeriodic",
        "transactionInfo": {"transactionId": "tx-1", "tariffId": "T1"}, "meterValue": mv,
        "costDetails": compute_cost(parse_tariff(TARIFF), readings).cost_details()}
    if kind == "Started":
        payload["evse"] = {"id": 1, "connectorId": 1}
    if tariff is not None:
        payload["customData"] = {"vendorId": VENDOR_ID,
                                 "tariffs": [{"from": iso(minutes), "tariff": tariff}]}
    return payload


@pytest.fixture
def emp() -> KeyPair:
    return KeyPair.generate("ed25519")


def trusting(key: KeyPair) -> SecurityContext:
    trust = TrustStore()
    trust.add(key.public_key)
    return SecurityContext(trust=trust, roles=RoleSet.from_config({"roles": [{
        "name": "tariff-issuer", "keys": [key.key_id],
        "allow": [{"action": "ChangeTransactionTariff"}]}]}))


async def checks(app: CsmsApp) -> list[dict[str, Any]]:
    return [e.data for e in await app.store.list_station_events("CS-1", "CostCheck")]


async def test_matching_cost_is_confirmed_and_final_total_returned(app: CsmsApp,
                                                                   emp: KeyPair) -> None:
    app.core.tariff_trust = trusting(emp)
    signed = sign_tariff(TARIFF, emp, now=T0)
    readings: list[Any] = []
    await send(app, "2.1", "CS-1", "TransactionEvent",
               event("Started", 0, 0, 1000, readings, signed))
    running = await send(app, "2.1", "CS-1", "TransactionEvent",
                         event("Updated", 1, 30, 6000, readings))
    assert running["totalCost"] == 2.5  # 1.00 + 5 kWh * 0.30, the running cost
    response = await send(app, "2.1", "CS-1", "TransactionEvent",
                          event("Ended", 2, 60, 11000, readings))
    assert response["totalCost"] == 4.0  # 1.00 + 10 kWh * 0.30
    found = await checks(app)
    assert [c["match"] for c in found] == [True, True, True]
    assert all(c["verified"] for c in found)
    [in_use] = await app.store.list_station_events("CS-1", "TariffInUse")
    assert in_use.data["issuer"] == emp.key_id and in_use.data["verified"] is True
    lines = await receipt_lines(app.store, "CS-1", "tx-1")
    assert lines == {
        "tariffs": [{"tariffId": "T1", "sha256": tariff_hash(TARIFF), "from": iso(0),
                     "issuer": emp.key_id, "verified": True}],
        "cost": {"exclTax": 4.0, "inclTax": 4.0}, "stationCost": {"exclTax": 4.0, "inclTax": 4.0},
        "costMatches": True, "final": True}
    assert await receipt_lines(app.store, "CS-1", "other") is None


async def test_a_station_reporting_another_cost_is_flagged(app: CsmsApp, emp: KeyPair) -> None:
    app.core.tariff_trust = trusting(emp)
    readings: list[Any] = []
    await send(app, "2.1", "CS-1", "TransactionEvent",
               event("Started", 0, 0, 0, readings, sign_tariff(TARIFF, emp, now=T0)))
    lying = event("Updated", 1, 60, 10_000, readings)
    lying["costDetails"]["totalCost"]["total"] = {"exclTax": 2.0, "inclTax": 2.0}
    await send(app, "2.1", "CS-1", "TransactionEvent", lying)
    last = (await checks(app))[-1]
    assert last["match"] is False
    assert last["station"] == {"exclTax": 2.0, "inclTax": 2.0}
    assert last["csms"] == {"exclTax": 4.0, "inclTax": 4.0}


async def test_an_altered_tariff_is_kept_but_marked_unverified(app: CsmsApp,
                                                              emp: KeyPair) -> None:
    app.core.tariff_trust = trusting(emp)
    altered = copy.deepcopy(sign_tariff(TARIFF, emp, now=T0))
    altered["energy"]["prices"][0]["priceKwh"] = 0.01
    readings: list[Any] = []
    await send(app, "2.1", "CS-1", "TransactionEvent",
               event("Started", 0, 0, 0, readings, altered))
    [in_use] = await app.store.list_station_events("CS-1", "TariffInUse")
    assert in_use.data["verified"] is False
    assert (await checks(app))[-1]["verified"] is False


async def test_no_tariff_stored_is_a_mismatch_with_a_reason(app: CsmsApp) -> None:
    readings: list[Any] = []
    await send(app, "2.1", "CS-1", "TransactionEvent", event("Started", 0, 0, 0, readings))
    [check] = await checks(app)
    assert check["match"] is False and check["reason"] == "no stored tariff for this transaction"


async def test_the_running_meter_equals_a_recomputation_from_the_store(
    app: CsmsApp, emp: KeyPair
) -> None:
    from ocppnet.csms.tariff_check import _rebuild

    app.core.tariff_trust = trusting(emp)
    readings: list[Any] = []
    await send(app, "2.1", "CS-1", "TransactionEvent",
               event("Started", 0, 0, 0, readings, sign_tariff(TARIFF, emp, now=T0)))
    for seq, (minutes, wh) in enumerate([(10, 2000), (20, 2500), (40, 9000)], start=1):
        await send(app, "2.1", "CS-1", "TransactionEvent",
                   event("Updated", seq, minutes, wh, readings))
        running, _ = app.core.tariff_meters[("CS-1", "tx-1")]
        rebuilt, verified = await _rebuild(app.core, "CS-1", "tx-1")
        assert running.result() == rebuilt.result() and verified
    # a MeterValues reading (off the straight line) joins the cost via the store
    mv = {"timestamp": iso(50), "sampledValue": [
        {"value": 9000.0, "measurand": "Energy.Active.Import.Register",
         "unitOfMeasure": {"unit": "Wh"}}]}
    await send(app, "2.1", "CS-1", "MeterValues", {"evseId": 1, "meterValue": [mv]})
    readings.extend(readings_of([mv]))
    assert ("CS-1", "tx-1") not in app.core.tariff_meters
    await send(app, "2.1", "CS-1", "TransactionEvent", event("Updated", 4, 60, 9000, readings))
    assert all(c["match"] for c in await checks(app))
    await send(app, "2.1", "CS-1", "TransactionEvent", event("Ended", 5, 70, 9500, readings))
    assert app.core.tariff_meters == {}
    assert all(c["match"] for c in await checks(app))


async def test_a_repeated_event_stores_its_tariff_once(app: CsmsApp, emp: KeyPair) -> None:
    app.core.tariff_trust = trusting(emp)
    readings: list[Any] = []
    started = event("Started", 0, 0, 0, readings, sign_tariff(TARIFF, emp, now=T0))
    await send(app, "2.1", "CS-1", "TransactionEvent", started)
    await send(app, "2.1", "CS-1", "TransactionEvent", started)  # a retry
    assert len(await app.store.list_station_events("CS-1", "TariffInUse")) == 1
    await send(app, "2.1", "CS-1", "TransactionEvent", event("Updated", 1, 60, 10_000, readings))
    assert all(c["match"] for c in await checks(app))
