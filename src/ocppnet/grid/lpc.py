"""The limitation of power consumption (LPC) of one site or station, as a pure state machine.

The states follow EEBUS "Limitation of Power Consumption" (the use case a control box
implements for §14a EnWG):

* ``unlimited``: controlled by the grid operator (its heartbeat arrives), no limit in force;
* ``limited``: a limit with a duration is in force;
* ``failsafe``: the heartbeat stopped for ``heartbeat_timeout_s``; the failsafe limit holds
  for ``failsafe_duration_s``;
* ``unlimited-autonomous``: failsafe ran out without news from the grid operator; no limit.

Events (:class:`Heartbeat`, :class:`Curtail`, :class:`Release`, :class:`Tick`) carry ``now``
(POSIX seconds); timed transitions (a limit expires, the heartbeat is overdue, failsafe ends)
happen at the exact moment they were due, also when the next event comes later. A refused
event (h11 style) raises :class:`LpcError` naming the reason and changes nothing.

Start: ``unlimited`` with the heartbeat deadline running from ``now`` (EEBUS's "init" state:
a site whose grid operator never shows up goes to failsafe after one timeout).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ocppnet.errors import GridRefused
from ocppnet.grid.minimum import DEVICE_MINIMUM_W

__all__ = [
    "Curtail",
    "Event",
    "Heartbeat",
    "LpcError",
    "LpcMachine",
    "LpcSettings",
    "LpcState",
    "LpcStatus",
    "Release",
    "Tick",
]


class LpcState(StrEnum):
    UNLIMITED = "unlimited"
    LIMITED = "limited"
    FAILSAFE = "failsafe"
    UNLIMITED_AUTONOMOUS = "unlimited-autonomous"


LpcError = GridRefused
"""An event the machine refuses; ``reason_code`` fits OCPP statusInfo (<= 20 chars)."""


@dataclass(frozen=True, slots=True)
class LpcSettings:
    """Per site: heartbeat timeout, failsafe limit and duration, guaranteed minimum (W)."""

    heartbeat_timeout_s: float = 120.0
    failsafe_limit_w: float = 4_200.0
    failsafe_duration_s: float = 7_200.0
    minimum_w: float = DEVICE_MINIMUM_W

    def __post_init__(self) -> None:
        if not self.heartbeat_timeout_s > 0:
            raise ValueError("heartbeat_timeout_s must be > 0")
        if not self.failsafe_duration_s > 0:
            raise ValueError("failsafe_duration_s must be > 0")
        if not 0 <= self.minimum_w <= self.failsafe_limit_w:
            raise ValueError(
                f"failsafe_limit_w ({self.failsafe_limit_w:g}) must be >= the guaranteed "
                f"minimum ({self.minimum_w:g})")


@dataclass(frozen=True, slots=True)
class Heartbeat:
    now: float


@dataclass(frozen=True, slots=True)
class Curtail:
    """A limit from the grid operator: ``limit_w`` for ``duration_s`` from ``now``."""

    limit_w: float
    duration_s: float
    now: float


@dataclass(frozen=True, slots=True)
class Release:
    """The grid operator lifts its limit before it ends."""

    now: float


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passes (a timer fired): applies the transitions due until ``now``."""

    now: float


Event = Heartbeat | Curtail | Release | Tick


@dataclass(frozen=True, slots=True)
class LpcStatus:
    """What is in force: ``limit_w`` (None: no limit) since ``since`` until ``until``
    (None: open-ended); ``heartbeat_due`` is when failsafe starts without a heartbeat."""

    state: LpcState
    limit_w: float | None
    since: float
    until: float | None
    last_heartbeat: float | None
    heartbeat_due: float | None


class LpcMachine:
    """One site's LPC state; :meth:`handle` applies an event and returns the new status."""

    def __init__(self, settings: LpcSettings, now: float) -> None:
        self.settings = settings
        self.state = LpcState.UNLIMITED
        self.since = now
        self.now = now
        self.limit_w: float | None = None
        self.limit_until: float | None = None
        self.failsafe_until: float | None = None
        self.last_heartbeat: float | None = None
        self._alive_from = now  # the heartbeat deadline counts from here
        self.transitions: list[tuple[float, LpcState, LpcState]] = []
        """(when, from, to) of every state change, oldest first."""

    # --- queries ------------------------------------------------------------------------

    def status(self) -> LpcStatus:
        state = self.state
        limit: float | None = None
        until: float | None = None
        if state is LpcState.LIMITED:
            limit, until = self.limit_w, self.limit_until
        elif state is LpcState.FAILSAFE:
            limit, until = self.settings.failsafe_limit_w, self.failsafe_until
        return LpcStatus(state, limit, self.since, until, self.last_heartbeat,
                         self.heartbeat_due())

    def heartbeat_due(self) -> float | None:
        if self.state in (LpcState.UNLIMITED, LpcState.LIMITED):
            return self._alive_from + self.settings.heartbeat_timeout_s
        return None

    def next_deadline(self) -> float | None:
        """When the next timed transition is due (for the caller's timer); None: none."""
        times = [t for t in (self.heartbeat_due(), self._limit_end(), self._failsafe_end())
                 if t is not None]
        return min(times) if times else None

    # --- persistence ----------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The machine's state as JSON-ready values (times as the machine's clock gives them:
        a site's clock is the wall clock, so a snapshot is meaningful after a restart)."""
        return {"state": self.state.value, "since": self.since, "now": self.now,
                "limit_w": self.limit_w, "limit_until": self.limit_until,
                "failsafe_until": self.failsafe_until, "last_heartbeat": self.last_heartbeat,
                "alive_from": self._alive_from}

    @classmethod
    def restore(cls, settings: LpcSettings, snapshot: dict[str, Any], now: float) -> LpcMachine:
        """The machine a :meth:`snapshot` describes, with every transition due by ``now``
        applied: a site restarted after its heartbeat timeout is in failsafe, not unlimited,
        and a curtailment still running is in force again. ValueError names a bad field."""
        machine = cls(settings, now)
        try:
            machine.state = LpcState(snapshot["state"])
        except (KeyError, ValueError):
            raise ValueError(f"state: expected one of {[s.value for s in LpcState]}, "
                             f"got {snapshot.get('state')!r}") from None
        machine.since = _number(snapshot, "since")
        machine.now = _number(snapshot, "now")
        machine._alive_from = _number(snapshot, "alive_from")
        machine.last_heartbeat = _optional(snapshot, "last_heartbeat")
        machine.limit_w = _optional(snapshot, "limit_w")
        machine.limit_until = _optional(snapshot, "limit_until")
        machine.failsafe_until = _optional(snapshot, "failsafe_until")
        if machine.state is LpcState.LIMITED and (machine.limit_w is None
                                                   or machine.limit_until is None):
            raise ValueError("limit_w, limit_until: a limited state needs both")
        if machine.state is LpcState.FAILSAFE and machine.failsafe_until is None:
            raise ValueError("failsafe_until: a failsafe state needs it")
        if now >= machine.now:  # a clock behind the snapshot's: no time has passed
            machine._advance(now)
            machine.now = now
        return machine

    # --- events -------------------------------------------------------------------------

    def handle(self, event: Event) -> LpcStatus:
        """Apply ``event`` (after the transitions due by ``event.now``); LpcError if refused."""
        if event.now < self.now:
            raise LpcError("ClockBackwards",
                           f"event at {event.now:.3f} is before the last one ({self.now:.3f})")
        if isinstance(event, Curtail):
            self._check_curtail(event)
        self._advance(event.now)
        if isinstance(event, Release) and self.state is not LpcState.LIMITED:
            hint = " (failsafe ends with a heartbeat)" if self.state is LpcState.FAILSAFE else ""
            raise LpcError("NoLimit", f"release: no grid operator limit in force, state is "
                                      f"{self.state.value}{hint}")
        self.now = event.now
        if isinstance(event, Heartbeat):
            self._alive(event.now)
            if self.state in (LpcState.FAILSAFE, LpcState.UNLIMITED_AUTONOMOUS):
                self.failsafe_until = None
                self._enter(LpcState.UNLIMITED, event.now)
        elif isinstance(event, Curtail):
            self._alive(event.now)
            self.limit_w = float(event.limit_w)
            self.limit_until = event.now + event.duration_s
            self.failsafe_until = None
            self._enter(LpcState.LIMITED, event.now)
        elif isinstance(event, Release):
            self._alive(event.now)
            self._clear_limit()
            self._enter(LpcState.UNLIMITED, event.now)
        return self.status()

    def _check_curtail(self, event: Curtail) -> None:
        limit, duration = event.limit_w, event.duration_s
        if not math.isfinite(limit) or limit < 0:
            raise LpcError("InvalidLimit", f"limit {limit!r} W is not a power >= 0")
        if limit < self.settings.minimum_w:
            raise LpcError(
                "BelowMinimum",
                f"limit {limit:.0f} W is below the guaranteed minimum "
                f"{self.settings.minimum_w:.0f} W of this site (§14a EnWG, BK6-22-300)")
        if not math.isfinite(duration) or duration <= 0:
            raise LpcError("InvalidDuration", f"duration {duration!r} s must be > 0")

    # --- timed transitions --------------------------------------------------------------

    def _limit_end(self) -> float | None:
        return self.limit_until if self.state is LpcState.LIMITED else None

    def _failsafe_end(self) -> float | None:
        return self.failsafe_until if self.state is LpcState.FAILSAFE else None

    def _advance(self, now: float) -> None:
        """Apply, in time order, every timed transition due at or before ``now``."""
        while True:
            due = self.next_deadline()
            if due is None or due > now:
                return
            if due == self._limit_end() and due < (self.heartbeat_due() or math.inf):
                self._clear_limit()
                self._enter(LpcState.UNLIMITED, due)
            elif due == self.heartbeat_due():
                self._clear_limit()
                self.failsafe_until = due + self.settings.failsafe_duration_s
                self._enter(LpcState.FAILSAFE, due)
            else:
                self.failsafe_until = None
                self._enter(LpcState.UNLIMITED_AUTONOMOUS, due)
            self.now = max(self.now, due)

    def _alive(self, now: float) -> None:
        self.last_heartbeat = now
        self._alive_from = now

    def _clear_limit(self) -> None:
        self.limit_w = None
        self.limit_until = None

    def _enter(self, state: LpcState, at: float) -> None:
        if state is not self.state:
            self.transitions.append((at, self.state, state))
        self.state = state
        self.since = at



def _number(snapshot: dict[str, Any], name: str) -> float:
    value = snapshot.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name}: expected a number, got {value!r}")
    return float(value)


def _optional(snapshot: dict[str, Any], name: str) -> float | None:
    return None if snapshot.get(name) is None else _number(snapshot, name)
