"""Smoke test of the OCMF benchmark (structure only, no timing thresholds)."""

from __future__ import annotations

from benchmarks import bench_ocmf


def test_ocmf_benchmark_rows_compare_with_raw_verify() -> None:
    full, parsed, raw = bench_ocmf.bench("ECDSA-secp256r1-SHA256", 0.05)
    assert full > 0 and parsed > 0 and raw > 0
    records = bench_ocmf._records(bench_ocmf.MeterKey.generate(), 2)
    assert [r.payload.pagination for r in records] == ["T1", "T2"]
