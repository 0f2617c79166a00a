"""Replay protection: a timestamp window plus a memory of signatures seen inside it.

A signature is remembered by ``(key id, SHA-256 of its signed bytes)``, not by its value:
ECDSA values are malleable (``s`` -> ``n - s`` verifies too), the signed content is not.
An entry can be forgotten once its timestamp has left the window, because a signature that
old is rejected by the window check anyway; so memory is bounded by the signing rate times the
window. ``max_entries`` is a hard cap on top: when it forces out an entry still inside the
window, the cache raises a floor and rejects every signature not newer than the evicted one
(fail closed: never accept a replay because memory ran out).

Wall clocks jump (NTP steps, a wrong RTC at boot). Timestamps are compared with the wall
clock, as they must be, but an entry is forgotten only once it has also been remembered
for ``window`` seconds of *elapsed* time (a monotonic clock, the one dependency this class
takes): a clock that jumps forward and back again cannot make the cache forget a signature
that is still inside the real window, and no jump locks legitimate signatures out once the
clock is right again.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable

__all__ = ["DEFAULT_WINDOW", "ReplayCache", "window_problem"]

DEFAULT_WINDOW = 300.0


def window_problem(signed_at: float, now: float, window: float) -> tuple[str, str] | None:
    """``("expired"|"future", reason)`` when ``signed_at`` is over ``window`` s from ``now``."""
    skew = signed_at - now
    if skew < -window:
        return "expired", f"expired: signed {-skew:.0f} s ago, window is {window:.0f} s"
    if skew > window:
        return "future", f"timestamp in the future by {skew:.0f} s, window is {window:.0f} s"
    return None


class ReplayCache:
    """Remembers accepted signatures for ``window`` seconds either side of ``now``."""

    __slots__ = ("_floor", "_heap", "_seen", "elapsed", "max_entries", "window")

    def __init__(
        self,
        window: float = DEFAULT_WINDOW,
        max_entries: int = 1_000_000,
        *,
        elapsed: Callable[[], float] = time.monotonic,
    ) -> None:
        if window <= 0 or max_entries <= 0:
            raise ValueError("window and max_entries must be positive")
        self.window = float(window)
        self.max_entries = max_entries
        self.elapsed = elapsed
        """Seconds of elapsed time (monotonic; injected by tests)."""
        self._seen: set[tuple[str, bytes]] = set()
        self._heap: list[tuple[float, float, tuple[str, bytes]]] = []
        self._floor = float("-inf")

    def remember(self, kid: str, digest: bytes, signed_at: float, now: float) -> str | None:
        """Record an accepted signature; a reason string when it was already seen."""
        self._evict(now)
        entry = (kid, digest)
        if entry in self._seen:
            return "replayed: signature already seen inside the window"
        if signed_at <= self._floor:
            return "replayed: replay cache full, signature not newer than the oldest forgotten one"
        self._seen.add(entry)
        heapq.heappush(self._heap, (signed_at, self.elapsed(), entry))
        while len(self._seen) > self.max_entries:
            ts, _, old = heapq.heappop(self._heap)
            self._seen.discard(old)
            self._floor = max(self._floor, ts)
        return None

    def _evict(self, now: float) -> None:
        horizon = now - self.window
        kept_until = self.elapsed() - self.window
        heap = self._heap
        while heap and heap[0][0] < horizon and heap[0][1] < kept_until:
            self._seen.discard(heapq.heappop(heap)[2])

    def __len__(self) -> int:
        return len(self._seen)
