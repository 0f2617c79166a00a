"""Simulated time: the station lives in ``now()`` seconds that may run faster than the wall.

Tests and load runs compress time (``speed=600`` turns a 30-minute session into 3 s); the
model and the protocol only ever see ``now()`` and convert delays with ``real_delay``.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    speed: float

    def now(self) -> float:
        """Simulated POSIX seconds."""
        ...

    def real_delay(self, sim_seconds: float) -> float:
        """Wall-clock seconds that ``sim_seconds`` of simulated time take."""
        ...


class SimClock:
    """Simulated time starting at ``start`` (default: the wall clock) running ``speed``x."""

    __slots__ = ("_start", "_t0", "speed")

    def __init__(self, speed: float = 1.0, start: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be > 0")
        self.speed = speed
        self._start = time.time() if start is None else start
        self._t0 = time.monotonic()

    def now(self) -> float:
        return self._start + (time.monotonic() - self._t0) * self.speed

    def real_delay(self, sim_seconds: float) -> float:
        return max(0.0, sim_seconds / self.speed)
