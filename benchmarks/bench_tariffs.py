"""Cost calculation per TransactionEvent: the station's running meter (O(new readings) per
event) versus recomputing the session from all its readings on every event (what the CSMS
does once per event). One 2.1 tariff with time-of-day, energy-bound and idle conditions;
readings every simulated minute; CPU-bound, one core, no network."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from benchmarks.report import Row, Target
from ocppnet.tariffs import CostMeter, Reading, compute_cost, parse_tariff

TARIFF = parse_tariff({
    "tariffId": "BENCH", "currency": "EUR",
    "energy": {"prices": [
        {"priceKwh": 0.49, "conditions": {"startTimeOfDay": "17:00", "endTimeOfDay": "20:00"}},
        {"priceKwh": 0.39, "conditions": {"maxEnergy": 20000}}, {"priceKwh": 0.35}],
        "taxRates": [{"type": "VAT", "tax": 19}]},
    "idleTime": {"prices": [{"priceMinute": 0, "conditions": {"maxIdleTime": 1800}},
                            {"priceMinute": 0.10}]},
    "fixedFee": {"prices": [{"priceFixed": 0.79}]},
})
START = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
RUNNING_TARGET = Target("min_ratio", 5.0)  # an 8-h session: incremental >= 5x recompute


def readings(count: int) -> list[Reading]:
    """11 kW for the first 400 minutes, then idle."""
    return [Reading(START + timedelta(minutes=i), min(i, 400) * 183.3) for i in range(count)]


def per_event_running(session: list[Reading]) -> float:
    """Events per second when each event adds one reading to the running meter."""
    t0 = time.perf_counter()
    meter = CostMeter(TARIFF)
    for reading in session:
        meter.add(reading)
        meter.result().cost_details()
    return len(session) / (time.perf_counter() - t0)


def per_event_recompute(session: list[Reading]) -> float:
    """Events per second when each event recomputes the session from all its readings."""
    t0 = time.perf_counter()
    for n in range(1, len(session) + 1):
        compute_cost(TARIFF, session[:n]).cost_details()
    return len(session) / (time.perf_counter() - t0)


def run(quick: bool) -> list[Row]:
    count = 60 if quick else 480  # one hour or eight hours of one-minute readings
    session = readings(count)
    ours, theirs = per_event_running(session), per_event_recompute(session)
    return [Row("tariffs", f"cost per TransactionEvent, {count}-reading session", "events/s",
                ours, theirs, "recompute every event",
                None if quick else RUNNING_TARGET)]
