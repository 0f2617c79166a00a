"""The twin's picture of each station: last values per stream, and health flags that say
where what the station reports does not add up (e.g. power while the connector is Available).

Pure: values in with their timestamps, ``now`` in for staleness; no storage here.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from ocppnet.telemetry.streams import StreamSpec

__all__ = ["EvseTwin", "StationTwin", "TwinState"]

_POWER_WHILE_IDLE_W = 50.0  # more than a meter's standby noise


@dataclass(slots=True)
class EvseTwin:
    values: dict[str, tuple[float, str]] = field(default_factory=dict)
    """stream label -> (time, value) of the latest value."""
    soc_history: list[tuple[float, float]] = field(default_factory=list)

    def latest(self, quantity: str) -> str | None:
        for label, (_, value) in self.values.items():
            if label.split(".")[1] == quantity:
                return value
        return None


@dataclass(slots=True)
class StationTwin:
    station: str
    streams: dict[int, StreamSpec] = field(default_factory=dict)
    evses: dict[int, EvseTwin] = field(default_factory=dict)
    last_seen: float = 0.0
    interval_s: float = 1.0


class TwinState:
    """All stations the twin knows, updated value by value."""

    def __init__(self, *, stale_after_intervals: float = 5.0) -> None:
        self.stations: dict[str, StationTwin] = {}
        self.stale_after_intervals = stale_after_intervals

    def open_stream(self, station: str, spec: StreamSpec, interval_s: float) -> None:
        twin = self.stations.setdefault(station, StationTwin(station))
        twin.streams[spec.id] = spec
        twin.interval_s = max(0.001, interval_s)

    def spec(self, station: str, stream_id: int) -> StreamSpec | None:
        twin = self.stations.get(station)
        return None if twin is None else twin.streams.get(stream_id)

    def update(self, station: str, spec: StreamSpec, at: float, value: str) -> None:
        twin = self.stations.setdefault(station, StationTwin(station))
        twin.streams.setdefault(spec.id, spec)
        evse = twin.evses.setdefault(spec.evse_id, EvseTwin())
        previous = evse.values.get(spec.label)
        if previous is None or previous[0] <= at:
            evse.values[spec.label] = (at, value)
        if spec.quantity == "soc":
            with contextlib.suppress(ValueError):  # a station's garbage is not a SoC
                evse.soc_history = [*evse.soc_history[-9:], (at, float(value))]
        twin.last_seen = max(twin.last_seen, at)

    def flags(self, station: str, now: float) -> list[str]:
        """What does not add up for ``station`` right now (empty: nothing)."""
        twin = self.stations.get(station)
        if twin is None:
            return []
        out: list[str] = []
        if now - twin.last_seen > self.stale_after_intervals * twin.interval_s:
            out.append(f"stale: nothing heard for {now - twin.last_seen:.0f} s")
        for evse_id, evse in sorted(twin.evses.items()):
            power = _number(evse.latest("power"))
            connector = evse.latest("connector")
            if connector == "Available" and power is not None and power > _POWER_WHILE_IDLE_W:
                out.append(f"evse {evse_id}: {power:.0f} W while the connector is Available")
            history = evse.soc_history
            charging = power is not None and power > _POWER_WHILE_IDLE_W
            if charging and len(history) >= 2 and history[-1][1] < history[-2][1] - 0.5:
                out.append(f"evse {evse_id}: SoC falling while charging "
                           f"({history[-2][1]:.1f} -> {history[-1][1]:.1f} %)")
        return out

    def snapshot(self, now: float) -> list[dict[str, Any]]:
        """JSON-ready state of every station, for the twin's API."""
        rows = []
        for station, twin in sorted(self.stations.items()):
            rows.append({
                "station": station,
                "lastSeen": twin.last_seen,
                "evses": {str(e): {label: value for label, (_, value) in sorted(t.values.items())}
                          for e, t in sorted(twin.evses.items())},
                "flags": self.flags(station, now),
            })
        return rows


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None
