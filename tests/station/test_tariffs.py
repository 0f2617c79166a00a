"""The simulator's 2.1 tariff handlers and the costDetails it adds (no network: the messages
are taken from its outgoing queue, schema-checked, in the order they would be sent)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ocppnet.errors import SecurityError
from ocppnet.security.context import SecurityContext
from ocppnet.security.keys import KeyPair
from ocppnet.security.roles import RoleSet
from ocppnet.security.trust import TrustStore
from ocppnet.station.ev import ElectricVehicle
from ocppnet.station.runtime import SimulatedStation
from ocppnet.station.scenario import Scenario
from ocppnet.tariffs import (
    TariffSegment,
    compute_cost,
    parse_tariff,
    sign_tariff,
)
from ocppnet.tariffs import readings_from_meter_values as readings_of
from ocppnet.validation import validate

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC).timestamp()
TARIFF = {"tariffId": "T1", "currency": "EUR", "energy": {"prices": [{"priceKwh": 0.5}]}}


class Clock:
    speed = 1.0

    def __init__(self) -> None:
        self.t = START

    def now(self) -> float:
        return self.t

    def real_delay(self, sim_seconds: float) -> float:
        return sim_seconds


@pytest.fixture(scope="module")
def emp() -> KeyPair:
    return KeyPair.generate("ed25519")


@pytest.fixture
def station(emp: KeyPair) -> tuple[SimulatedStation, Clock]:
    trust = TrustStore()
    trust.add(emp.public_key)
    roles = RoleSet.from_config({"roles": [{"name": "tariff-issuer", "keys": [emp.key_id],
                                            "allow": [{"action": "SetDefaultTariff"},
                                                      {"action": "ChangeTransactionTariff"}]}]})
    clock = Clock()
    cs = SimulatedStation("CS-1", "ws://127.0.0.1:9/ocpp", version="2.1",
                          scenario=Scenario(auto=False), clock=clock,
                          security=SecurityContext(trust=trust, roles=roles))
    return cs, clock


def signed(emp: KeyPair, data: dict[str, Any] = TARIFF) -> dict[str, Any]:
    return sign_tariff(data, emp, now=datetime.now(UTC))


def sent(cs: SimulatedStation) -> list[dict[str, Any]]:
    """The TransactionEvents queued so far (each checked against the 2.1 schema)."""
    out = []
    while (message := cs.queue.peek()) is not None:
        cs.queue.pop()
        assert validate("2.1", message.action, "request", message.payload) is None
        out.append(message.payload)
    return out


async def test_set_get_clear_and_refusals(station: tuple[SimulatedStation, Clock],
                                          emp: KeyPair) -> None:
    cs, _ = station
    tariffs = cs.tariffs
    assert await tariffs.on_get_tariffs(None, {"evseId": 0}) == {"status": "NoTariff"}
    ok = await tariffs.on_set_default_tariff(None, {"evseId": 0, "tariff": signed(emp)})
    assert ok == {"status": "Accepted"}
    got = await tariffs.on_get_tariffs(None, {"evseId": 1})
    assert got == {"status": "Accepted",
                   "tariffAssignments": [{"tariffId": "T1", "tariffKind": "DefaultTariff"}]}
    unknown = await tariffs.on_set_default_tariff(None, {"evseId": 7, "tariff": signed(emp)})
    assert unknown["status"] == "Rejected"
    bad = signed(emp, {**TARIFF, "tariffId": "T2",
                       "idleTime": {"prices": [{"priceMinute": 1,
                                                "conditions": {"startTimeOfDay": "25:00"}}]}})
    invalid = await tariffs.on_set_default_tariff(None, {"evseId": 0, "tariff": bad})
    assert invalid["status"] == "Rejected"
    assert "startTimeOfDay" in invalid["statusInfo"]["additionalInfo"]
    with pytest.raises(SecurityError, match="unsigned"):
        await tariffs.on_set_default_tariff(None, {"evseId": 0, "tariff": TARIFF})
    cleared = await tariffs.on_clear_tariffs(None, {})
    assert cleared == {"clearTariffsResult": [{"tariffId": "T1", "status": "Accepted"}]}
    assert await tariffs.on_change_transaction_tariff(
        None, {"transactionId": "nope", "tariff": signed(emp)}) == {"status": "TxNotFound"}
    assert await tariffs.on_cost_updated(None, {"transactionId": "x", "totalCost": 1.5}) == {}
    assert tariffs.central == {"x": 1.5}


async def test_a_session_reports_its_cost_and_a_change_cuts_it(
    station: tuple[SimulatedStation, Clock], emp: KeyPair
) -> None:
    cs, clock = station
    await cs.tariffs.on_set_default_tariff(None, {"evseId": 0, "tariff": signed(emp)})
    model = cs.model
    cs.apply(model.authorize(1, "TOKEN", clock.t))
    # 6 kW until 80 % (3.6 kWh from 50 % of 12 kWh), then tapering
    cs.apply(model.plug_in(1, ElectricVehicle(capacity_wh=12_000, soc=0.5, max_power_w=6000),
                           clock.t))
    [started] = sent(cs)
    tx = started["transactionInfo"]["transactionId"]
    assert started["transactionInfo"]["tariffId"] == "T1"
    assert started["customData"]["tariffs"][0]["tariff"]["tariffId"] == "T1"
    assert started["costDetails"]["totalCost"]["total"] == {"exclTax": 0.0, "inclTax": 0.0}
    clock.t += 1800  # half an hour at 6 kW: 3 kWh
    cheaper = signed(emp, {**TARIFF, "tariffId": "T2",
                           "energy": {"prices": [{"priceKwh": 0.1}]}})
    usd = signed(emp, {**TARIFF, "tariffId": "T3", "currency": "USD"})
    assert await cs.tariffs.on_change_transaction_tariff(
        None, {"transactionId": tx, "tariff": usd}) == {"status": "NoCurrencyChange"}
    assert await cs.tariffs.on_change_transaction_tariff(
        None, {"transactionId": tx, "tariff": cheaper}) == {"status": "Accepted"}
    events = sent(cs)
    changed = [p for p in events if p["triggerReason"] == "TariffChanged"]
    assert len(changed) == 1
    assert changed[0]["customData"]["tariffs"][0]["tariff"]["tariffId"] == "T2"
    assert changed[0]["costDetails"]["totalCost"]["total"]["exclTax"] == 1.5  # 3 kWh * 0.50
    clock.t += 900
    cs.apply(model.advance(clock.t))
    _, triggered = cs.dialect.triggered_meter_values(model.evses[1], clock.t)  # a MeterValues
    clock.t += 900
    cs.apply(model.stop(1, "Local", clock.t))
    events += sent(cs)
    [ended] = [p for p in events if p["eventType"] == "Ended"]
    # the CSMS's view: every reading it got (TransactionEvents and the MeterValues), the
    # tariffs from the instants announced
    readings = [r for p in [started, *events, triggered] for r in readings_of(p["meterValue"])
                if "meterValue" in p]
    segments = [TariffSegment(datetime.fromisoformat(t["from"]), parse_tariff(t["tariff"]))
                for p in [started, *events] for t in p.get("customData", {}).get("tariffs", ())]
    assert compute_cost(segments, readings).cost_details() == ended["costDetails"]
    without = [r for p in [started, *events] for r in readings_of(p.get("meterValue"))]
    assert compute_cost(segments, without).cost_details() != ended["costDetails"]
    assert "customData" not in ended  # each tariff is announced once
    assert 1.5 < ended["costDetails"]["totalCost"]["total"]["exclTax"] < 1.8  # + < 3 kWh * 0.10
    assert [p["tariffId"] for p in ended["costDetails"]["chargingPeriods"]] == ["T1", "T2"]
