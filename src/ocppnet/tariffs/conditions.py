"""When a tariff's price element applies: its conditions against the state of a session (pure).

The state is taken at the start of a stretch of time over which nothing a condition looks at
changes (the calculator cuts the session at every point where one could change, see
``next_boundary``). ``min`` bounds are inclusive, ``max`` bounds exclusive; times of day,
days of week and dates are read in the tariff's local time zone. A condition on current holds
only when the meter reported current; reverse energy flow (negative bounds) is not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal

from ocppnet.tariffs.model import DAYS, Conditions, FixedConditions

__all__ = ["Context", "State", "fixed_holds", "holds", "minutes_of_day", "next_local_boundary"]


@dataclass(frozen=True, slots=True)
class State:
    """Cumulative values at one instant, plus what holds over the stretch that starts there."""

    energy_wh: Decimal
    duration_s: Decimal
    charging_s: Decimal
    idle_s: Decimal
    power_w: Decimal
    charging: bool
    current_a: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Context:
    """Facts of the session that no meter reading changes."""

    tz: tzinfo
    evse_kind: str = "AC"
    payment_brand: str | None = None
    payment_recognition: str | None = None


def minutes_of_day(text: str, *, end: bool = False) -> int:
    """``"07:30"`` -> 450; an end of ``"00:00"`` is the end of the day (1440)."""
    minutes = int(text[:2]) * 60 + int(text[3:])
    return 1440 if end and minutes == 0 else minutes


def _calendar_holds(c: FixedConditions, local: datetime, ctx: Context) -> bool:
    if c.evse_kind is not None and c.evse_kind != ctx.evse_kind:
        return False
    if c.day_of_week is not None and DAYS[local.weekday()] not in c.day_of_week:
        return False
    day = local.date()
    if c.valid_from_date is not None and day < c.valid_from_date:
        return False
    if c.valid_to_date is not None and day >= c.valid_to_date:
        return False
    if c.start_time_of_day is None and c.end_time_of_day is None:
        return True
    now = local.hour * 60 + local.minute
    start = 0 if c.start_time_of_day is None else minutes_of_day(c.start_time_of_day)
    stop = 1440 if c.end_time_of_day is None else minutes_of_day(c.end_time_of_day, end=True)
    if start <= stop:
        return start <= now < stop
    return now >= start or now < stop  # wraps past midnight


def _within(value: Decimal | None, low: Decimal | None, high: Decimal | None) -> bool:
    if low is None and high is None:
        return True
    if value is None:
        return False
    return (low is None or value >= low) and (high is None or value < high)


def holds(c: Conditions | None, state: State, local: datetime, ctx: Context) -> bool:
    """All conditions of a running price (energy, time) hold (a logical AND)."""
    if c is None:
        return True
    return (
        _calendar_holds(c, local, ctx)
        and _within(state.energy_wh, c.min_energy, c.max_energy)
        and _within(state.power_w, c.min_power, c.max_power)
        and _within(state.current_a, c.min_current, c.max_current)
        and _within(state.duration_s, c.min_time, c.max_time)
        and _within(state.charging_s, c.min_charging_time, c.max_charging_time)
        and _within(state.idle_s, c.min_idle_time, c.max_idle_time)
    )


def fixed_holds(c: FixedConditions | None, local: datetime, ctx: Context) -> bool:
    """A fixed fee's conditions at the start of the transaction."""
    if c is None:
        return True
    if c.payment_brand is not None and c.payment_brand != ctx.payment_brand:
        return False
    if c.payment_recognition is not None and c.payment_recognition != ctx.payment_recognition:
        return False
    return _calendar_holds(c, local, ctx)


def next_local_boundary(after: datetime, minutes: frozenset[int], tz: tzinfo) -> datetime:
    """The first instant strictly after ``after`` whose local time of day is in ``minutes``
    (minutes since local midnight; midnight itself is always a boundary for day and date)."""
    local = after.astimezone(tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    best: datetime | None = None
    for day in (0, 1):
        base = midnight + timedelta(days=day)
        for m in minutes | {0, 1440}:
            wall = (base + timedelta(minutes=m)).replace(tzinfo=None)
            candidate = wall.replace(tzinfo=tz)
            if candidate > after and (best is None or candidate < best):
                best = candidate
    assert best is not None  # tomorrow's midnight is always later
    return best
