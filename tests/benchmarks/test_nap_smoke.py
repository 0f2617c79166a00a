"""Smoke test of the access-point benchmark (structure only, no timing thresholds)."""

from __future__ import annotations

from benchmarks import bench_nap


def test_quick_nap_benchmark_reports_three_positive_figures() -> None:
    rows = bench_nap.run(True)
    assert [r.benchmark for r in rows] == ["nap"] * 3
    assert all(r.ours > 0 for r in rows) and rows[0].baseline is not None
