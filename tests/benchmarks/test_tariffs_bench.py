"""The tariff benchmark runs in quick mode and both ways of computing agree on the cost."""

from __future__ import annotations

from benchmarks import bench_tariffs
from ocppnet.tariffs import CostMeter, compute_cost


def test_quick_run_reports_positive_rates() -> None:
    [row] = bench_tariffs.run(True)
    assert row.ours > 0 and row.baseline is not None and row.baseline > 0


def test_both_ways_give_the_same_cost() -> None:
    session = bench_tariffs.readings(60)
    meter = CostMeter(bench_tariffs.TARIFF)
    for reading in session:
        meter.add(reading)
    assert meter.result() == compute_cost(bench_tariffs.TARIFF, session)
