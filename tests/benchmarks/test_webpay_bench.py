"""Smoke test of the web-payment benchmark (structure only, no timing thresholds)."""

from __future__ import annotations

from benchmarks import bench_webpay


def test_rows_have_positive_rates_and_baselines() -> None:
    rows = bench_webpay.run(quick=True)
    assert [r.metric for r in rows] == ["channel record seal+open/s", "TOTP verify/s"]
    assert all(r.ours > 0 and r.baseline and r.baseline > 0 for r in rows)
