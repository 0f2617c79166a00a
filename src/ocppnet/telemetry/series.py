"""Downsampling a time series for old data: fixed buckets with mean, minimum, maximum and
count, so a year of one-second samples fits in a chart and a table (docs/digital-twin.md)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Bucket", "downsample"]


@dataclass(frozen=True, slots=True)
class Bucket:
    start: float
    mean: float
    minimum: float
    maximum: float
    count: int


def downsample(points: Iterable[tuple[float, float]], bucket_s: float) -> list[Bucket]:
    """``points`` ((time, value), any order) into buckets of ``bucket_s`` seconds starting at
    multiples of ``bucket_s``; NaN values are skipped. Sorted by start."""
    if not bucket_s > 0:
        raise ValueError("bucket_s must be > 0")
    sums: dict[float, list[float]] = {}
    for at, value in points:
        if math.isnan(value):
            continue
        start = math.floor(at / bucket_s) * bucket_s
        acc = sums.get(start)
        if acc is None:
            sums[start] = [value, value, value, 1.0]
        else:
            acc[0] += value
            acc[1] = min(acc[1], value)
            acc[2] = max(acc[2], value)
            acc[3] += 1
    return [Bucket(start, acc[0] / acc[3], acc[1], acc[2], int(acc[3]))
            for start, acc in sorted(sums.items())]
