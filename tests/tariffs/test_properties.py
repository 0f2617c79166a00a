"""Properties of the cost calculator over generated tariffs and sessions (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ocppnet.tariffs import CostMeter, Reading, compute_cost, parse_tariff

T0 = datetime(2026, 12, 5, 21, 0, tzinfo=UTC)
TOLERANCE = Decimal("1e-6")

money = st.integers(min_value=0, max_value=200).map(lambda c: c / 100)
hhmm = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from([0, 30]))
conditions = st.fixed_dictionaries({}, optional={
    "startTimeOfDay": hhmm, "endTimeOfDay": hhmm,
    "dayOfWeek": st.lists(st.sampled_from(["Saturday", "Sunday", "Monday"]), min_size=1,
                          max_size=3, unique=True),
    "minEnergy": st.integers(0, 20_000), "maxEnergy": st.integers(1, 40_000),
    "minPower": st.integers(0, 20_000), "maxPower": st.integers(1, 50_000),
    "minTime": st.integers(0, 7200), "maxTime": st.integers(1, 14_400),
    "minChargingTime": st.integers(0, 3600), "maxIdleTime": st.integers(1, 3600),
})
taxes = st.lists(st.fixed_dictionaries({"type": st.just("VAT"), "tax": st.integers(0, 25),
                                        "stack": st.integers(0, 1)}), max_size=2)


def dimension(price_key: str) -> st.SearchStrategy[dict[str, Any]]:
    element = st.fixed_dictionaries({price_key: money}, optional={"conditions": conditions})
    return st.builds(lambda prices, tax: {"prices": prices, **({"taxRates": tax} if tax else {})},
                     st.lists(element, min_size=1, max_size=3), taxes)


tariffs = st.fixed_dictionaries({"tariffId": st.just("T"), "currency": st.just("EUR")}, optional={
    "energy": dimension("priceKwh"), "chargingTime": dimension("priceMinute"),
    "idleTime": dimension("priceMinute"),
    "fixedFee": st.builds(lambda p: {"prices": [{"priceFixed": p}]}, money),
    "minCost": st.builds(lambda p: {"exclTax": p}, money),
    "maxCost": st.builds(lambda p: {"exclTax": p + 5}, money),
})
# (minutes since the previous reading, Wh added): a session of up to 8 readings
steps = st.lists(st.tuples(st.integers(1, 90), st.integers(0, 15_000)), min_size=1, max_size=8)


def readings_of(session: list[tuple[int, int]], first_wh: int = 500) -> list[Reading]:
    out, t, e = [Reading(T0, first_wh)], T0, first_wh
    for minutes, wh in session:
        t, e = t + timedelta(minutes=minutes), e + wh
        out.append(Reading(t, e))
    return out


@settings(max_examples=150, deadline=None)
@given(tariffs, steps)
def test_cost_is_never_negative_and_within_min_max(data: dict[str, Any],
                                                   session: list[tuple[int, int]]) -> None:
    tariff = parse_tariff(data)
    r = compute_cost(tariff, readings_of(session))
    assert r.total.excl_tax >= 0 and r.total.incl_tax >= 0
    assert r.total.incl_tax >= r.total.excl_tax - TOLERANCE  # no negative tax rates here
    if tariff.min_cost is not None and tariff.min_cost.excl_tax is not None:
        assert r.total.excl_tax >= tariff.min_cost.excl_tax
    if tariff.max_cost is not None and tariff.max_cost.excl_tax is not None:
        assert r.total.excl_tax <= tariff.max_cost.excl_tax
    assert abs(sum(p.energy_wh for p in r.periods) - r.energy_wh) <= TOLERANCE
    assert abs(sum(p.charging_s + p.idle_s for p in r.periods) - r.duration_s) <= TOLERANCE


@settings(max_examples=150, deadline=None)
@given(tariffs, steps, st.integers(0, 7), st.floats(0.05, 0.95))
def test_splitting_a_period_never_changes_the_total(
    data: dict[str, Any], session: list[tuple[int, int]], which: int, fraction: float
) -> None:
    """An extra reading on the straight line between two readings changes nothing."""
    tariff = parse_tariff(data)
    readings = readings_of(session)
    i = which % (len(readings) - 1)
    a, b = readings[i], readings[i + 1]
    seconds = int((b.at - a.at).total_seconds() * fraction)
    share = Decimal(seconds) / Decimal(int((b.at - a.at).total_seconds()))
    middle = Reading(a.at + timedelta(seconds=seconds),
                     Decimal(str(a.energy_wh)) + (Decimal(str(b.energy_wh)) -
                                                  Decimal(str(a.energy_wh))) * share)
    whole = compute_cost(tariff, readings)
    split = compute_cost(tariff, [*readings[:i + 1], middle, *readings[i + 1:]])
    assert abs(whole.total.excl_tax - split.total.excl_tax) <= TOLERANCE
    assert abs(whole.total.incl_tax - split.total.incl_tax) <= TOLERANCE
    assert whole.type_of_cost == split.type_of_cost


@settings(max_examples=150, deadline=None)
@given(st.lists(st.fixed_dictionaries({"priceKwh": money}, optional={"conditions": conditions}),
                min_size=1, max_size=3).filter(
                    lambda prices: all(set(p.get("conditions", {})) <= {"minEnergy", "maxEnergy"}
                                       for p in prices)
                    and all(p["priceKwh"] > 0 for p in prices)),
       st.integers(0, 60_000), st.integers(0, 60_000))
def test_energy_only_tariffs_are_monotone_in_energy(prices: list[dict[str, Any]],
                                                    e1: int, e2: int) -> None:
    """More energy in the same time never costs less when only energy is priced."""
    tariff = parse_tariff({"tariffId": "E", "currency": "EUR", "energy": {"prices": prices}})
    low, high = sorted((e1, e2))
    end = T0 + timedelta(hours=1)
    cost_low = compute_cost(tariff, [Reading(T0, 0), Reading(end, low)]).total.excl_tax
    cost_high = compute_cost(tariff, [Reading(T0, 0), Reading(end, high)]).total.excl_tax
    assert cost_high >= cost_low


@settings(max_examples=100, deadline=None)
@given(tariffs, steps, st.integers(0, 2000))
def test_the_running_meter_agrees_with_the_batch_at_every_reading(
    data: dict[str, Any], session: list[tuple[int, int]], first_wh: int
) -> None:
    """What a station reports on each event equals a recomputation from those readings."""
    tariff = parse_tariff(data)
    readings = readings_of(session, first_wh)
    meter = CostMeter(tariff)
    for n, reading in enumerate(readings, start=1):
        meter.add(reading)
        assert meter.result().cost_details() == compute_cost(tariff, readings[:n]).cost_details()
