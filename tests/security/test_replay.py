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


def test_seen_signature_is_a_replay_until_it_leaves_the_window() -> None:
    cache = ReplayCache(window=300)
    assert cache.remember("k", b"d1", 1000.0, 1000.0) is None
    assert cache.remember("k", b"d1", 1000.0, 1200.0) == (
        "replayed: signature already seen inside the window")
    assert cache.remember("other", b"d1", 1000.0, 1200.0) is None  # other key, other entry
    assert len(cache) == 2
    cache.remember("k", b"d2", 1301.0, 1301.0)  # evicts the entries signed at 1000
    assert len(cache) == 1


def test_memory_is_bounded_by_timestamp_eviction() -> None:
    cache = ReplayCache(window=10)
    for i in range(1000):
        assert cache.remember("k", i.to_bytes(4, "big"), float(i), float(i)) is None
    assert len(cache) <= 22


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
