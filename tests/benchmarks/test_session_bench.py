"""Smoke test of the session benchmark (structure only, no timing thresholds)."""

from __future__ import annotations

from benchmarks import bench_session


def test_quick_session_benchmark_reports_round_trips_and_idle_bytes() -> None:
    rows = bench_session.run(True)
    assert [r.benchmark for r in rows] == ["session", "session"]
    assert all(r.ours > 0 for r in rows)
    assert rows[1].unit == "B" and rows[1].target is not None
