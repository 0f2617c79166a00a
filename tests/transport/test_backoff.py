"""The reconnect schedule is pure: exponential, capped, jittered by the draw we pass in."""

from __future__ import annotations

import itertools
import random

import pytest

from ocppnet.transport import Backoff


def test_delays_double_from_base_until_cap_without_jitter() -> None:
    policy = Backoff(base=0.5, cap=6.0, factor=2.0, jitter=0.0)
    assert list(itertools.islice(policy.schedule(lambda: 0.0), 6)) == [
        0.5, 1.0, 2.0, 4.0, 6.0, 6.0,
    ]


def test_jitter_adds_the_scaled_draw_on_top_of_the_capped_delay() -> None:
    policy = Backoff(base=1.0, cap=3.0, jitter=2.0)
    assert policy.delay(0, 0.25) == 1.5
    assert policy.delay(10, 0.5) == 4.0  # capped at 3, plus 2 * 0.5


def test_random_draws_stay_within_the_jitter_range() -> None:
    policy = Backoff(base=1.0, cap=8.0, jitter=1.0)
    draw = random.Random(7).random
    for attempt, delay in zip(range(50), policy.schedule(draw), strict=False):
        floor = min(8.0, 2.0**attempt)
        assert floor <= delay < floor + 1.0


def test_max_attempts_ends_the_schedule() -> None:
    assert len(list(Backoff(max_attempts=3).schedule(lambda: 0.0))) == 3


def test_huge_attempt_numbers_do_not_overflow() -> None:
    assert Backoff(base=1.0, cap=60.0, jitter=0.0).delay(10_000, 0.0) == 60.0


@pytest.mark.parametrize("kwargs", [{"base": -1.0}, {"jitter": -0.1}, {"factor": 0.5}])
def test_nonsense_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(**kwargs)
