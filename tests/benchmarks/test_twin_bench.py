"""The twin benchmark's target: a latency ratio that must stay under 1.2x."""

from __future__ import annotations

from benchmarks.bench_twin import TARGET
from benchmarks.report import Row


def test_a_p99_that_grows_less_than_20_percent_meets_the_target() -> None:
    assert Row("twin", "p99", "ms", 1.1, 1.0, "silent", TARGET).met is True
    assert Row("twin", "p99", "ms", 1.3, 1.0, "silent", TARGET).met is False
    assert TARGET.label("ms") == "<= 1.2x"
