"""Replay cache: remembers inside the window, forgets outside it, fails closed when full."""

from __future__ import annotations

import pytest

from ocppnet.security.replay import ReplayCache, window_problem


def test_window_problem() -> None:
    assert window_problem(1000.0, 1300.0, 300.0) is None
    assert window_problem(1000.0, 1301.0, 300.0) == (
        "expired", "expired: signed 301 s ago, window is 300 s")
    assert window_problem(1400.0, 1000.0, 300.0) == (
        "future", "timestamp in the future by 400 s, window is 300 s")


class Clocks:
    """A wall clock and an elapsed (monotonic) clock that the test moves."""

    def __init__(self, at: float) -> None:
        self.wall = at
        self.mono = 0.0

    def advance(self, seconds: float) -> float:
        self.wall += seconds
        self.mono += seconds
        return self.wall


def test_seen_signature_is_a_replay_until_it_leaves_the_window() -> None:
    clocks = Clocks(1000.0)
    cache = ReplayCache(window=300, elapsed=lambda: clocks.mono)
    assert cache.remember("k", b"d1", 1000.0, 1000.0) is None
    assert cache.remember("k", b"d1", 1000.0, clocks.advance(200)) == (
        "replayed: signature already seen inside the window")
    assert cache.remember("other", b"d1", 1000.0, 1200.0) is None  # other key, other entry
    assert len(cache) == 2
    cache.remember("k", b"d2", 1301.0, clocks.advance(101))  # evicts k's, remembered 301 s
    assert len(cache) == 2  # "other" was remembered only 101 s ago (elapsed): kept
    cache.remember("k", b"d3", 1501.0, clocks.advance(200))
    assert len(cache) == 2  # now "other" went too (d2, d3 stay)


def test_memory_is_bounded_by_timestamp_eviction() -> None:
    clocks = Clocks(0.0)
    cache = ReplayCache(window=10, elapsed=lambda: clocks.mono)
    for i in range(1000):
        assert cache.remember("k", i.to_bytes(4, "big"), float(i), float(i)) is None
        clocks.advance(1)
    assert len(cache) <= 22


def test_a_wall_clock_that_jumps_forward_and_back_forgets_nothing_still_in_the_window(
) -> None:
    """An NTP step of an hour forward evicts nothing remembered for less than the window
    (elapsed time), so the replay is still caught once the clock is back."""
    clocks = Clocks(10_000.0)
    cache = ReplayCache(window=300, elapsed=lambda: clocks.mono)
    assert cache.remember("k", b"cmd", 10_000.0, 10_000.0) is None
    clocks.mono += 5
    assert cache.remember("k", b"other", 13_600.0, 13_605.0) is None  # wall: +1 h
    assert cache.remember("k", b"cmd", 10_000.0, 10_010.0) == (  # wall: back again
        "replayed: signature already seen inside the window")


def test_no_jump_locks_out_a_legitimate_signature_once_the_clock_is_right() -> None:
    clocks = Clocks(10_000.0)
    cache = ReplayCache(window=300, elapsed=lambda: clocks.mono)
    for step, wall in enumerate((13_600.0, 6_400.0, 10_000.0)):  # +1 h, -1 h, right
        clocks.mono += 1
        assert cache.remember("k", f"s{step}".encode(), wall, wall) is None
    assert cache.remember("k", b"fresh", 10_001.0, 10_002.0) is None
    clocks.advance(301)  # and old entries still go once the window passed in real time
    cache.remember("k", b"later", clocks.wall, clocks.wall)
    assert len(cache) <= 3


def test_full_cache_fails_closed() -> None:
    cache = ReplayCache(window=300, max_entries=2)
    assert cache.remember("k", b"a", 10.0, 10.0) is None
    assert cache.remember("k", b"b", 20.0, 20.0) is None
    assert cache.remember("k", b"c", 30.0, 30.0) is None  # forgets "a" (signed at 10)
    assert len(cache) == 2
    reason = cache.remember("k", b"a", 10.0, 40.0)
    assert reason is not None and reason.startswith("replayed: replay cache full")
    assert cache.remember("k", b"d", 11.0, 40.0) is None


def test_bad_parameters() -> None:
    with pytest.raises(ValueError):
        ReplayCache(window=0)
