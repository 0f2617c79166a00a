"""Smoke test of the deflate benchmark (structure only, no timing thresholds)."""

from __future__ import annotations

from benchmarks.bench_deflate import measure, state_kib


def test_deflate_state_is_measured_for_both_implementations() -> None:
    ours, theirs = state_kib(5)
    assert ours > 0 and theirs > 0


def test_a_picows_server_negotiates_deflate_under_load() -> None:
    result = measure("picows", "deflate", quick=True)  # raises unless deflate was negotiated
    assert result["negotiated"] == 1.0 and result["rate"] > 0 and result["per_cpu"] > 0
