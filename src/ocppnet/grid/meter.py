"""The grid meter at a site's grid connection point: what the node reports to the DSO.

:class:`GridMeter` is the interface (a real meter — Modbus, SML, a smart meter gateway —
implements the same ``read_w``); :class:`SessionMeter` simulates one from what the node
already sees: the power its stations report for their sessions, plus a constant base load.
"""

from __future__ import annotations

from typing import Protocol

from ocppnet.loadmgmt.sessions import SessionTracker

__all__ = ["GridMeter", "SessionMeter"]


class GridMeter(Protocol):
    name: str

    def read_w(self, now: float) -> float:
        """Active power drawn from the grid at ``now`` (W)."""
        ...


class SessionMeter:
    """Sum of the last measured power of every session the load manager tracks + base load."""

    name = "simulated:sessions"

    def __init__(self, tracker: SessionTracker, base_load_w: float = 0.0) -> None:
        self.tracker = tracker
        self.base_load_w = base_load_w

    def read_w(self, now: float) -> float:
        return self.base_load_w + sum(
            s.measured_w for s in self.tracker.sessions.values() if s.measured_w is not None)
