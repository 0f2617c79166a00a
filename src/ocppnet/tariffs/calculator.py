"""The cost of a transaction under its tariff(s), from its meter readings (pure; docs/tariffs.md).

Input: the energy register readings the station reported (time, Wh, optionally current) and
the tariff in force from each instant on (a ChangeTransactionTariff starts a new segment).
Between two readings energy is taken to flow at a constant rate; a stretch is *charging* when
the register rose and *idle* otherwise. The session is cut wherever a condition could change
(a reading, a new tariff, a time of day or midnight in the tariff's zone, an energy or duration
bound being crossed); in each piece the first price element of each dimension whose
conditions hold prices it. Cutting a piece in two never changes the cost, so the same
readings give the same cost at the station and at the CSMS, whichever way they are grouped.

:class:`CostMeter` is the calculation as a fold (feed readings as they come, ask for the result
at any time: a station pays O(new readings) per event); :func:`compute_cost` is its batch form.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ocppnet.tariffs.conditions import (
    Context,
    State,
    fixed_holds,
    holds,
    minutes_of_day,
    next_local_boundary,
)
from ocppnet.tariffs.cost import (
    Amount,
    CostResult,
    Period,
    Reading,
    TariffSegment,
    instant,
    seconds,
)
from ocppnet.tariffs.model import Conditions, Price, Tariff, TariffError
from ocppnet.tariffs.tax import with_tax

__all__ = ["CostMeter", "compute_cost"]

_ZERO = Decimal(0)
_ONE = Decimal(1)
_SNAP = Decimal("1e-9")
_DIMENSIONS = ("energy", "charging_time", "idle_time")


@dataclass(frozen=True, slots=True)
class _Bounds:
    """Values of each cumulative quantity at which some condition of a tariff flips."""

    energy: tuple[Decimal, ...]
    time: tuple[Decimal, ...]
    charging: tuple[Decimal, ...]
    idle: tuple[Decimal, ...]
    minutes: frozenset[int] | None  # local times of day that matter, None: calendar-free


_UNPRICED = _Bounds((), (), (), (), None)


def _bounds(tariff: Tariff) -> _Bounds:
    conds: list[Conditions] = []
    for dim in (tariff.energy, tariff.charging_time, tariff.idle_time):
        if dim is not None:
            conds.extend(p.conditions for p in dim[0] if p.conditions is not None)

    def values(*names: str) -> tuple[Decimal, ...]:
        found = {getattr(c, n) for c in conds for n in names}
        return tuple(sorted(v for v in found if v is not None))

    calendar = any(c.start_time_of_day or c.end_time_of_day or c.day_of_week
                   or c.valid_from_date or c.valid_to_date for c in conds)
    minutes = frozenset(
        minutes_of_day(text) for c in conds
        for text in (c.start_time_of_day, c.end_time_of_day) if text is not None)
    return _Bounds(values("min_energy", "max_energy"), values("min_time", "max_time"),
                   values("min_charging_time", "max_charging_time"),
                   values("min_idle_time", "max_idle_time"), minutes if calendar else None)


def _first(prices: Sequence[Any], state: State, local: datetime, ctx: Context) -> int | None:
    for index, price in enumerate(prices):
        if holds(price.conditions, state, local, ctx):
            return index
    return None


def _crossing(value: Decimal, rate: Decimal, bounds: tuple[Decimal, ...]) -> Decimal | None:
    """Seconds until ``value`` growing at ``rate`` reaches the next bound above it."""
    if rate <= 0:
        return None
    for bound in bounds:
        if bound > value + _SNAP:
            return (bound - value) / rate
    return None


def _snap(value: Decimal, bounds: tuple[Decimal, ...]) -> Decimal:
    for bound in bounds:
        if abs(value - bound) <= _SNAP:
            return bound
    return value


def _limit(total: Amount, bound: Price, below: bool) -> Amount | None:
    """The min/max cost replacing ``total`` when ``total`` is past it (None: it is not)."""
    if bound.excl_tax is not None:
        past = total.excl_tax < bound.excl_tax if below else total.excl_tax > bound.excl_tax
    else:
        assert bound.incl_tax is not None
        past = total.incl_tax < bound.incl_tax if below else total.incl_tax > bound.incl_tax
    if not past:
        return None
    ratio = total.incl_tax / total.excl_tax if total.excl_tax else _ONE
    excl = bound.excl_tax if bound.excl_tax is not None else bound.incl_tax / ratio  # type: ignore[operator]
    incl = bound.incl_tax if bound.incl_tax is not None else bound.excl_tax * ratio  # type: ignore[operator]
    return Amount(excl, incl)


def _piece(name: str, price: Any, de: Decimal, dt: Decimal, charging: bool) -> Decimal:
    if name == "energy":
        return de / 1000 * price.price_kwh  # type: ignore[no-any-return]
    if (name == "charging_time") == charging:
        return dt / 60 * price.price_minute  # type: ignore[no-any-return]
    return _ZERO


class CostMeter:
    """Running cost of one transaction: :meth:`add` readings in time order, :meth:`result`
    at any time. Time before the first tariff segment is counted but not priced."""

    def __init__(self, tariffs: Tariff | Sequence[TariffSegment] = (), *,
                 context: Context | None = None, decimals: int = 2) -> None:
        self.context = context or Context(UTC)
        self.decimals = decimals
        self._single = tariffs if isinstance(tariffs, Tariff) else None
        self._segments: list[tuple[Decimal, Tariff]] = []
        self._bounds: dict[int, _Bounds] = {}
        self._start: Decimal | None = None
        self._last: tuple[Decimal, Decimal, Decimal | None] | None = None  # t, cumulative, A
        self._register: Decimal | None = None  # the last raw reading (Wh)
        self._energy = self._duration = self._charging = self._idle = _ZERO
        self._sums = {name: Amount() for name in _DIMENSIONS}
        self._fixed = Amount()
        self._periods: list[Period] = []
        if not isinstance(tariffs, Tariff):
            for segment in sorted(tariffs, key=lambda s: s.start):
                self.add_tariff(segment)

    def add_tariff(self, segment: TariffSegment) -> None:
        """A tariff from ``segment.start`` on; it may not start before the last reading."""
        start = seconds(segment.start)
        if self._last is not None and start < self._last[0]:
            raise TariffError("cost: a tariff segment before the last reading")
        if self._segments and segment.tariff.currency != self._segments[0][1].currency:
            raise TariffError(f"cost: tariffs in different currencies "
                              f"{sorted({self._segments[0][1].currency, segment.tariff.currency})}")
        self._segments.append((start, segment.tariff))

    def _bounds_of(self, tariff: Tariff | None) -> _Bounds:
        if tariff is None:
            return _UNPRICED
        found = self._bounds.get(id(tariff))
        if found is None:
            found = self._bounds[id(tariff)] = _bounds(tariff)
        return found

    def _in_force(self, t: Decimal) -> Tariff | None:
        chosen = None
        for begins, tariff in self._segments:
            if begins <= t:
                chosen = tariff
        return chosen

    def add(self, reading: Reading) -> None:
        """The next energy register reading; a falling register adds no energy."""
        t = seconds(reading.at)
        raw = Decimal(str(reading.energy_wh))
        current = None if reading.current_a is None else Decimal(str(reading.current_a))
        if self._last is None:
            self._begin(t)
            self._last, self._register = (t, _ZERO, current), raw
            return
        last_t, cumulative, last_current = self._last
        if t < last_t:
            raise TariffError(f"cost: reading at {reading.at.isoformat()} is older than the last")
        grown = _ZERO if self._register is None else max(raw - self._register, _ZERO)
        self._register = raw
        if t == last_t:  # a second reading of the same instant: energy without time
            if grown:
                self._stretch(t, t, grown, last_current)
            self._last = (t, cumulative + grown, current)
            return
        currents = [c for c in (last_current, current) if c is not None]
        mean = sum(currents, _ZERO) / len(currents) if currents else None
        self._stretch(last_t, t, grown, mean)
        self._last = (t, cumulative + grown, current)

    def _begin(self, t: Decimal) -> None:
        self._start = t
        if self._single is not None:
            self._segments = [(t, self._single), *self._segments]
        first = self._in_force(t)
        if first is not None and first.fixed_fee is not None:
            local = instant(t).astimezone(self.context.tz)
            for price in first.fixed_fee[0]:
                if fixed_holds(price.conditions, local, self.context):
                    self._fixed = Amount(price.price_fixed,
                                         with_tax(price.price_fixed, first.fixed_fee[1]))
                    break

    def _stretch(self, begin: Decimal, end: Decimal, grown: Decimal,
                 current: Decimal | None) -> None:
        """Price [begin, end) during which ``grown`` Wh flowed at a constant rate."""
        if end == begin:
            self._price(begin, begin, grown, _ZERO, True, current)
            return
        rate = grown / (end - begin)
        t = begin
        while t < end:
            b = self._bounds_of(self._in_force(t))
            cut = end
            for begins, _ in self._segments:
                if t < begins < cut:
                    cut = begins
            charging = rate > 0
            for value, speed, marks in (
                (self._energy, rate, b.energy), (self._duration, _ONE, b.time),
                (self._charging, _ONE if charging else _ZERO, b.charging),
                (self._idle, _ZERO if charging else _ONE, b.idle),
            ):
                step = _crossing(value, speed, marks)
                if step is not None and t + step < cut:
                    cut = t + step
            if b.minutes is not None:
                local_next = next_local_boundary(instant(t), b.minutes, self.context.tz)
                cut = min(cut, seconds(local_next))
            self._price(t, cut, rate * (cut - t), rate * 3600, charging, current)
            t = cut

    def _price(self, t: Decimal, cut: Decimal, de: Decimal, power: Decimal, charging: bool,
               current: Decimal | None) -> None:
        tariff = self._in_force(t)
        b = self._bounds_of(tariff)
        # a piece cut at a bound ends exactly on it: price the snapped amounts, so that the
        # energy and time priced add up to the bound however the division rounded
        energy = _snap(self._energy + de, b.energy)
        de = energy - self._energy
        duration = _snap(self._duration + cut - t, b.time)
        if charging:
            counter = _snap(self._charging + cut - t, b.charging)
            dt = counter - self._charging
        else:
            counter = _snap(self._idle + cut - t, b.idle)
            dt = counter - self._idle
        state = State(self._energy, self._duration, self._charging, self._idle, power,
                      charging, current)
        local = instant(t).astimezone(self.context.tz)
        chosen: list[int | None] = []
        for name in _DIMENSIONS:
            dim: Any = None if tariff is None else getattr(tariff, name)
            index = None if dim is None else _first(dim[0], state, local, self.context)
            chosen.append(index)
            if index is None:
                continue
            prices, taxes = dim
            net = _piece(name, prices[index], de, dt, charging)
            if net:
                self._sums[name] += Amount(net, with_tax(net, taxes))
        tariff_id = None if tariff is None else tariff.tariff_id
        key = (tariff_id, charging, *chosen)
        if not self._periods or self._periods[-1].key != key:
            self._periods.append(Period(t, tariff_id, key))
        period = self._periods[-1]
        period.energy_wh += de
        if charging:
            period.charging_s += dt
            period.max_power_w = power if period.max_power_w is None else max(
                period.max_power_w, power)
            period.min_power_w = power if period.min_power_w is None else min(
                period.min_power_w, power)
        else:
            period.idle_s += dt
        self._energy, self._duration = energy, duration
        if charging:
            self._charging = counter
        else:
            self._idle = counter

    def result(self) -> CostResult:
        """The cost so far (min/max of the tariff in force at the last reading applied)."""
        if self._last is None or not self._segments:
            raise TariffError("cost: no meter reading" if self._last is None
                              else "cost: no tariff")
        last = self._in_force(self._last[0]) or self._segments[0][1]
        sums = self._sums
        total = self._fixed + sums["energy"] + sums["charging_time"] + sums["idle_time"]
        kind = "NormalCost"
        if last.min_cost is not None and (low := _limit(total, last.min_cost, True)):
            total, kind = low, "MinCost"
        if last.max_cost is not None and (high := _limit(total, last.max_cost, False)):
            total, kind = high, "MaxCost"
        total = Amount(max(total.excl_tax, _ZERO), max(total.incl_tax, _ZERO))  # never pays out
        periods = tuple(Period(p.start, p.tariff_id, p.key, p.energy_wh, p.charging_s, p.idle_s,
                               p.max_power_w, p.min_power_w) for p in self._periods)
        return CostResult(last.currency, kind, self._fixed, sums["energy"],
                          sums["charging_time"], sums["idle_time"], total, self._energy,
                          self._duration, self._charging, self._idle, periods, self.decimals)


def compute_cost(
    tariffs: Tariff | Sequence[TariffSegment],
    readings: Sequence[Reading],
    *,
    context: Context | None = None,
    decimals: int = 2,
) -> CostResult:
    """The cost of the transaction whose readings (first = its start) are given, in any order."""
    if not isinstance(tariffs, Tariff) and not tariffs:
        raise TariffError("cost: no tariff")
    meter = CostMeter(tariffs, context=context, decimals=decimals)
    if not readings:
        raise TariffError("cost: no meter reading")
    for reading in sorted(readings, key=lambda r: r.at):
        meter.add(reading)
    return meter.result()
