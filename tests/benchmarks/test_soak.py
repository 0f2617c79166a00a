"""The soak benchmark's arithmetic (the run itself is in scripts/test.sh's smoke step)."""

from __future__ import annotations

import pytest
from benchmarks.soak import slope


def test_slope_of_a_line_and_of_flat_noise() -> None:
    assert slope([(0.0, 1.0), (10.0, 3.0), (20.0, 5.0)]) == pytest.approx(0.2)
    assert slope([(0.0, 5.0), (1.0, 4.0), (2.0, 6.0), (3.0, 5.0)]) == pytest.approx(0.2)
    assert slope([(1.0, 2.0)]) == 0.0 and slope([(1.0, 2.0), (1.0, 3.0)]) == 0.0
