"""Cost calculator: worked examples computed by hand in each test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ocppnet.tariffs import (
    Context,
    Reading,
    TariffError,
    TariffSegment,
    ad_hoc_price,
    compute_cost,
    parse_tariff,
    session_cost,
)
from ocppnet.validation import validate

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # a Tuesday


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def tariff(**fields: Any) -> dict[str, Any]:
    return {"tariffId": "T1", "currency": "EUR", **fields}


VAT19 = [{"type": "VAT", "tax": 19}]


def test_energy_charging_time_idle_and_fixed_fee_with_vat() -> None:
    t = parse_tariff(tariff(
        energy={"prices": [{"priceKwh": 0.30}], "taxRates": VAT19},
        chargingTime={"prices": [{"priceMinute": 0.02}], "taxRates": VAT19},
        idleTime={"prices": [{"priceMinute": 0.10}], "taxRates": VAT19},
        fixedFee={"prices": [{"priceFixed": 1.00}], "taxRates": VAT19},
    ))
    # 30 min at 20 kW = 10 kWh, then 20 min idle
    readings = [Reading(at(0), 1000), Reading(at(30), 11000), Reading(at(50), 11000)]
    r = compute_cost(t, readings)
    # energy 10 kWh * 0.30 = 3.00; charging 30 min * 0.02 = 0.60; idle 20 * 0.10 = 2.00;
    # fixed 1.00: net 6.60, with 19 % VAT 7.854
    assert r.energy.excl_tax == Decimal("3.00")
    assert r.charging_time.excl_tax == Decimal("0.60")
    assert r.idle_time.excl_tax == Decimal("2.00")
    assert r.total.excl_tax == Decimal("6.60")
    assert r.total.incl_tax == Decimal("7.854")
    details = r.cost_details()
    assert details["totalCost"]["total"] == {"exclTax": 6.6, "inclTax": 7.85}
    assert details["totalUsage"] == {"energy": 10000.0, "chargingTime": 3000, "idleTime": 1200}
    assert [p["startPeriod"] for p in details["chargingPeriods"]] == [
        "2026-12-01T09:00:00.000Z", "2026-12-01T09:30:00.000Z"]
    event = {"eventType": "Ended", "timestamp": "2026-12-01T09:50:00Z",
             "triggerReason": "StopAuthorized", "seqNo": 3,
             "transactionInfo": {"transactionId": "tx"}, "costDetails": details}
    assert validate("2.1", "TransactionEvent", "request", event) is None


def test_time_of_day_split_inside_one_meter_interval() -> None:
    # peak price 07:00-10:00 local (Berlin, UTC+1 in December), off-peak otherwise
    t = parse_tariff(tariff(energy={"prices": [
        {"priceKwh": 0.50, "conditions": {"startTimeOfDay": "07:00", "endTimeOfDay": "10:00"}},
        {"priceKwh": 0.20}]}))
    # 08:30-09:30 UTC = 09:30-10:30 Berlin, 12 kWh at a constant 12 kW
    readings = [Reading(at(-30), 0), Reading(at(30), 12000)]
    r = compute_cost(t, readings, context=Context(ZoneInfo("Europe/Berlin")))
    # 30 min peak (6 kWh * 0.50 = 3.00) + 30 min off-peak (6 kWh * 0.20 = 1.20)
    assert r.total.excl_tax == Decimal("4.20")
    assert len(r.periods) == 2
    assert r.cost_details()["chargingPeriods"][1]["startPeriod"] == "2026-12-01T09:00:00.000Z"


def test_energy_bound_crossed_between_readings() -> None:
    # the first 5 kWh at 0.40, the rest at 0.25
    t = parse_tariff(tariff(energy={"prices": [
        {"priceKwh": 0.40, "conditions": {"maxEnergy": 5000}}, {"priceKwh": 0.25}]}))
    r = compute_cost(t, [Reading(at(0), 0), Reading(at(60), 8000)])
    # 5 * 0.40 + 3 * 0.25 = 2.75
    assert r.total.excl_tax == Decimal("2.75")


def test_idle_fee_only_after_a_grace_period() -> None:
    t = parse_tariff(tariff(idleTime={"prices": [
        {"priceMinute": 0, "conditions": {"maxIdleTime": 600}}, {"priceMinute": 0.25}]}))
    r = compute_cost(t, [Reading(at(0), 0), Reading(at(10), 2000), Reading(at(40), 2000)])
    # 30 idle minutes, 10 free, 20 * 0.25 = 5.00
    assert r.idle_time.excl_tax == Decimal("5.00")


def test_min_and_max_cost() -> None:
    cheap = parse_tariff(tariff(energy={"prices": [{"priceKwh": 0.30}]},
                                minCost={"exclTax": 2.0, "inclTax": 2.38}))
    r = compute_cost(cheap, [Reading(at(0), 0), Reading(at(10), 1000)])
    assert (r.type_of_cost, r.total.excl_tax, r.total.incl_tax) == (
        "MinCost", Decimal("2.0"), Decimal("2.38"))
    capped = parse_tariff(tariff(energy={"prices": [{"priceKwh": 0.30}], "taxRates": VAT19},
                                 maxCost={"exclTax": 10}))
    r = compute_cost(capped, [Reading(at(0), 0), Reading(at(600), 100_000)])
    assert (r.type_of_cost, r.total.excl_tax, r.total.incl_tax) == (
        "MaxCost", Decimal("10"), Decimal("11.90"))


def test_stacked_taxes() -> None:
    # 10 % on the net price, then 5 % on top of that: 100 -> 110 -> 115.5
    t = parse_tariff(tariff(fixedFee={"prices": [{"priceFixed": 100}], "taxRates": [
        {"type": "State", "tax": 10}, {"type": "City", "tax": 5, "stack": 1}]}))
    assert compute_cost(t, [Reading(at(0), 0)]).total.incl_tax == Decimal("115.5")


def test_fixed_fee_conditions_are_read_at_the_start() -> None:
    t = parse_tariff(tariff(fixedFee={"prices": [
        {"priceFixed": 2, "conditions": {"dayOfWeek": ["Saturday", "Sunday"]}},
        {"priceFixed": 1, "conditions": {"paymentBrand": "VISA"}}]}))
    readings = [Reading(at(0), 0), Reading(at(60), 1)]
    assert compute_cost(t, readings).fixed.excl_tax == 0
    card = Context(UTC, payment_brand="VISA")
    assert compute_cost(t, readings, context=card).fixed.excl_tax == 1


def test_changed_tariff_prices_from_its_start() -> None:
    first = parse_tariff(tariff(energy={"prices": [{"priceKwh": 0.30}]},
                                fixedFee={"prices": [{"priceFixed": 1}]}))
    second = parse_tariff({**tariff(energy={"prices": [{"priceKwh": 0.10}]}), "tariffId": "T2"})
    readings = [Reading(at(0), 0), Reading(at(60), 10_000)]
    r = compute_cost([TariffSegment(at(0), first), TariffSegment(at(30), second)], readings)
    # 5 kWh * 0.30 + 5 kWh * 0.10 + fixed 1 (the first tariff's) = 3.00
    assert r.total.excl_tax == Decimal("3.00")
    assert [p.tariff_id for p in r.periods] == ["T1", "T2"]


def test_power_conditions_use_the_average_power_between_readings() -> None:
    t = parse_tariff(tariff(energy={"prices": [
        {"priceKwh": 0.60, "conditions": {"minPower": 50000}}, {"priceKwh": 0.40}]}))
    # 30 min at 100 kW (50 kWh), then 30 min at 10 kW (5 kWh)
    r = compute_cost(t, [Reading(at(0), 0), Reading(at(30), 50_000), Reading(at(60), 55_000)])
    assert r.total.excl_tax == Decimal("32.00")  # 50 * 0.60 + 5 * 0.40


def test_session_cost_and_ad_hoc_price() -> None:
    t = parse_tariff(tariff(
        energy={"prices": [{"priceKwh": 0.5, "conditions": {"startTimeOfDay": "18:00",
                                                           "endTimeOfDay": "00:00"}},
                           {"priceKwh": 0.3}], "taxRates": VAT19},
        fixedFee={"prices": [{"priceFixed": 1}]}))
    amount = session_cost(t, [Reading(at(0), 0), Reading(at(1), 333)])
    assert (amount.excl_tax, amount.incl_tax) == (Decimal("1.10"), Decimal("1.12"))
    evening = ad_hoc_price(t, T0.replace(hour=19))
    assert evening.per_kwh is not None and evening.per_kwh.excl_tax == Decimal("0.5")
    assert evening.per_kwh.incl_tax == Decimal("0.595")
    morning = ad_hoc_price(t, T0).as_json()
    assert morning["perKwh"] == {"exclTax": 0.3, "inclTax": 0.357}
    assert morning["fixed"] == {"exclTax": 1.0, "inclTax": 1.0}
    assert morning["perIdleMinute"] is None


@pytest.mark.parametrize(("data", "message"), [
    ({"currency": "EUR"}, "tariff.tariffId: required"),
    (tariff(energy={"prices": []}), "tariff.energy.prices: must be a non-empty array"),
    (tariff(energy={"prices": [{"priceKwh": "0.3"}]}),
     "tariff.energy.prices[0].priceKwh: must be a number"),
    (tariff(idleTime={"prices": [{"priceMinute": 1, "conditions": {"startTimeOfDay": "7:00"}}]}),
     "tariff.idleTime.prices[0].conditions.startTimeOfDay"),
    (tariff(minCost={}), "tariff.minCost: needs exclTax or inclTax"),
    (tariff(validFrom="2026-12-01T10:00:00"),
     "tariff.validFrom: not an RFC 3339 date-time with a zone"),
])
def test_bad_tariffs_name_the_field(data: dict[str, Any], message: str) -> None:
    with pytest.raises(TariffError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_tariff(data)


def test_different_currencies_cannot_be_combined() -> None:
    eur, usd = parse_tariff(tariff()), parse_tariff({**tariff(), "currency": "USD"})
    with pytest.raises(TariffError, match="different currencies"):
        compute_cost([TariffSegment(at(0), eur), TariffSegment(at(1), usd)],
                     [Reading(at(0), 0)])


def test_running_meter_edge_cases() -> None:
    from ocppnet.tariffs import CostMeter

    t = parse_tariff(tariff(energy={"prices": [{"priceKwh": 1}]}))
    meter = CostMeter(t)
    meter.add(Reading(at(0), 0))
    meter.add(Reading(at(10), 1000))
    meter.add(Reading(at(10), 1500))  # the same instant again: energy without time
    assert meter.result().total.excl_tax == Decimal("1.5")
    with pytest.raises(TariffError, match="older than the last"):
        meter.add(Reading(at(5), 2000))
    with pytest.raises(TariffError, match="before the last reading"):
        meter.add_tariff(TariffSegment(at(1), t))
    with pytest.raises(TariffError, match="no meter reading"):
        CostMeter(t).result()
    with pytest.raises(TariffError, match="no tariff"):
        compute_cost([], [Reading(at(0), 0)])
