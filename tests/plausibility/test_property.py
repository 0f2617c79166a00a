"""Property: a generated plausible charging session never triggers a finding."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ocppnet.plausibility import PlausibilityChecker, PlausibilityConfig
from tests.plausibility.payloads import energy, now, power, sample, soc, tx_event

# (seconds since the last sample, power in this interval as a share of max power, in kWh?)
steps = st.lists(
    st.tuples(st.integers(1, 3600), st.floats(0.0, 1.0), st.booleans()),
    min_size=1, max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(
    max_power=st.sampled_from([3_700.0, 11_000.0, 22_000.0, 150_000.0]),
    register=st.floats(0.0, 1e9),
    start_soc=st.floats(0.0, 100.0),
    seq_gaps=st.lists(st.integers(1, 5), min_size=30, max_size=30),
    session=steps,
)
def test_plausible_session_has_no_findings(
    max_power: float, register: float, start_soc: float, seq_gaps: list[int],
    session: list[tuple[int, float, bool]],
) -> None:
    checker = PlausibilityChecker(PlausibilityConfig(stations={"CS-1": max_power}))

    def check(payload: dict[str, Any], seconds: float) -> None:
        verdict = checker.check("CS-1", "TransactionEvent", payload, version="2.0.1",
                                now=now(seconds))
        assert verdict.findings == (), verdict.findings

    check(tx_event("Started", 0, 0, energy(register), soc(start_soc)), 0)
    elapsed, seq_no, wh, pct = 0, 0, register, start_soc
    for (dt, share, in_kwh), gap in zip(session, seq_gaps, strict=False):
        elapsed += dt
        seq_no += gap
        watts = max_power * share
        wh += watts * dt / 3600
        # an EV's SoC can rise at most as fast as the rule allows; keep it in range
        pct = min(100.0, pct + min(share, 1.0) * 300.0 * dt / 3600 * 0.9)
        reading = sample(wh / 1000, None, "kWh") if in_kwh else energy(wh)
        check(tx_event("Updated", seq_no, elapsed, reading, power(watts), soc(pct)), elapsed)
    check(tx_event("Ended", seq_no + 1, elapsed + 1, energy(wh)), elapsed + 1)
