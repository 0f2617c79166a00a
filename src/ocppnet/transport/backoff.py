"""Reconnect back-off: randomized exponential delays, pure (the random draw is an argument).

Delay for attempt n (0-based) is ``min(cap, base * factor**n) + jitter * u`` with u in [0, 1),
which is the shape of OCPP 2.0.1's RetryBackOffWaitMinimum / RetryBackOffRandomRange: the
random part spreads thousands of stations that lost the same CSMS at the same moment.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    """Reconnect policy. ``max_attempts`` None means retry forever."""

    base: float = 1.0
    cap: float = 60.0
    factor: float = 2.0
    jitter: float = 1.0
    max_attempts: int | None = None

    def __post_init__(self) -> None:
        if self.base < 0 or self.cap < 0 or self.jitter < 0 or self.factor < 1:
            raise ValueError("back-off needs base, cap, jitter >= 0 and factor >= 1")

    def delay(self, attempt: int, u: float) -> float:
        """Seconds to wait before reconnect ``attempt`` (0-based), given a uniform draw ``u``."""
        exponent = min(attempt, 64)  # keeps factor**n finite; the cap applies long before
        return min(self.cap, self.base * self.factor**exponent) + self.jitter * u

    def schedule(self, draw: Callable[[], float] = random.random) -> Iterator[float]:
        """The successive delays; stops after ``max_attempts`` when set."""
        attempt = 0
        while self.max_attempts is None or attempt < self.max_attempts:
            yield self.delay(attempt, draw())
            attempt += 1
