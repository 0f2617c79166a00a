"""The cost of a transaction under its tariff(s), from its meter readings (pure; docs/tariffs.md).

Input: the energy register readings the station reported (time, Wh, optionally current) and
the tariff in force from each instant on (a ChangeTransactionTariff starts a new segment).
Between two readings energy is taken to flow at a constant rate; a stretch is *charging* when
the register rose and *idle* otherwise. The session is cut wherever a condition could change
(a reading, a new tariff, a time of day or midnight in the tariff's zone, an energy or duration
bound being crossed); in each piece the first price element of each dimension whose
conditions hold prices it. Cutting a piece in two never changes the cost, so the same
readings give the same cost at the station and at the CSMS, whichever way they are grouped.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ocppnet.tariffs.conditions import (
    Context,
    State,
    fixed_holds,
    holds,
    minutes_of_day,
    next_local_boundary,
)
from ocppnet.tariffs.model import Conditions, Price, Tariff, TariffError, TaxRate
from ocppnet.tariffs.tax import with_tax

__all__ = ["Amount", "CostResult", "Period", "Reading", "TariffSegment", "compute_cost"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_ZERO = Decimal(0)
_SNAP = Decimal("1e-9")
_DIMENSIONS = ("energy", "charging_time", "idle_time")


def _seconds(at: datetime) -> Decimal:
    if at.tzinfo is None:
        raise TariffError(f"{at.isoformat()}: a time without zone")
    return Decimal((at - _EPOCH) // _US) / 1_000_000


def _instant(seconds: Decimal) -> datetime:
    return _EPOCH + timedelta(microseconds=int(seconds * 1_000_000))


def _iso(seconds: Decimal) -> str:
    return _instant(seconds).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Reading:
    """One energy register reading (Wh) reported for the transaction."""

    at: datetime
    energy_wh: float | Decimal
    current_a: float | Decimal | None = None


@dataclass(frozen=True, slots=True)
class TariffSegment:
    """``tariff`` prices the transaction from ``start`` on (until the next segment)."""

    start: datetime
    tariff: Tariff


@dataclass(frozen=True, slots=True)
class Amount:
    excl_tax: Decimal = _ZERO
    incl_tax: Decimal = _ZERO

    def __add__(self, other: Amount) -> Amount:
        return Amount(self.excl_tax + other.excl_tax, self.incl_tax + other.incl_tax)


@dataclass(slots=True)
class Period:
    """One ChargingPeriodType: consecutive pieces priced by the same elements of one tariff."""

    start: Decimal
    tariff_id: str | None  # None: before the first tariff, not priced
    key: tuple[Any, ...]
    energy_wh: Decimal = _ZERO
    charging_s: Decimal = _ZERO
    idle_s: Decimal = _ZERO
    max_power_w: Decimal | None = None
    min_power_w: Decimal | None = None

    def as_json(self) -> dict[str, Any]:
        dims: list[dict[str, Any]] = [
            {"type": "Energy", "volume": float(round(self.energy_wh, 3))},
            {"type": "ChargingTime", "volume": float(round(self.charging_s, 3))},
            {"type": "IdleTIme", "volume": float(round(self.idle_s, 3))},  # the enum's spelling
        ]
        if self.max_power_w is not None and self.min_power_w is not None:
            dims.append({"type": "MaxPower", "volume": float(round(self.max_power_w, 3))})
            dims.append({"type": "MinPower", "volume": float(round(self.min_power_w, 3))})
        out: dict[str, Any] = {"startPeriod": _iso(self.start), "dimensions": dims}
        if self.tariff_id is not None:
            out["tariffId"] = self.tariff_id
        return out


@dataclass(frozen=True, slots=True)
class CostResult:
    """Unrounded amounts; :meth:`cost_details` rounds to ``decimals`` for the wire."""

    currency: str
    type_of_cost: str  # NormalCost | MinCost | MaxCost
    fixed: Amount
    energy: Amount
    charging_time: Amount
    idle_time: Amount
    total: Amount
    energy_wh: Decimal
    duration_s: Decimal
    charging_s: Decimal
    idle_s: Decimal
    periods: tuple[Period, ...] = field(default=())
    decimals: int = 2

    def rounded(self, value: Decimal) -> Decimal:
        return value.quantize(Decimal(1).scaleb(-self.decimals), rounding=ROUND_HALF_UP)

    def _price(self, amount: Amount) -> dict[str, float]:
        return {"exclTax": float(self.rounded(amount.excl_tax)),
                "inclTax": float(self.rounded(amount.incl_tax))}

    def cost_details(self) -> dict[str, Any]:
        """The CostDetailsType of OCPP 2.1 TransactionEventRequest."""
        total: dict[str, Any] = {
            "currency": self.currency, "typeOfCost": self.type_of_cost,
            "fixed": self._price(self.fixed), "energy": self._price(self.energy),
            "chargingTime": self._price(self.charging_time),
            "idleTime": self._price(self.idle_time), "total": self._price(self.total),
        }
        out: dict[str, Any] = {
            "totalCost": total,
            # OCPP: totalUsage.chargingTime is the whole session, idle included
            "totalUsage": {"energy": float(round(self.energy_wh, 3)),
                           "chargingTime": int(self.duration_s),
                           "idleTime": int(self.idle_s)},
        }
        if self.periods:
            out["chargingPeriods"] = [p.as_json() for p in self.periods]
        return out


@dataclass(frozen=True, slots=True)
class _Point:
    t: Decimal
    e: Decimal
    current: Decimal | None


def _points(readings: Sequence[Reading]) -> list[_Point]:
    """Sorted by time, one per instant (the last wins); a falling register adds no energy."""
    by_time: dict[Decimal, Reading] = {}
    for r in sorted(readings, key=lambda r: r.at):
        by_time[_seconds(r.at)] = r
    out: list[_Point] = []
    cumulative, last = _ZERO, None
    for t, r in by_time.items():
        e = Decimal(str(r.energy_wh))
        if last is not None and e > last:
            cumulative += e - last
        last = e
        cur = None if r.current_a is None else Decimal(str(r.current_a))
        out.append(_Point(t, cumulative, cur))
    return out


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
    ratio = total.incl_tax / total.excl_tax if total.excl_tax else Decimal(1)
    excl = bound.excl_tax if bound.excl_tax is not None else bound.incl_tax / ratio  # type: ignore[operator]
    incl = bound.incl_tax if bound.incl_tax is not None else bound.excl_tax * ratio  # type: ignore[operator]
    return Amount(excl, incl)


def _segments(tariffs: Tariff | Sequence[TariffSegment],
              start: Decimal) -> list[tuple[Decimal, Tariff]]:
    if isinstance(tariffs, Tariff):
        return [(start, tariffs)]
    if not tariffs:
        raise TariffError("cost: no tariff")
    segs = sorted(((_seconds(s.start), s.tariff) for s in tariffs), key=lambda x: x[0])
    currencies = {t.currency for _, t in segs}
    if len(currencies) > 1:
        raise TariffError(f"cost: tariffs in different currencies {sorted(currencies)}")
    return segs


def compute_cost(
    tariffs: Tariff | Sequence[TariffSegment],
    readings: Sequence[Reading],
    *,
    context: Context | None = None,
    decimals: int = 2,
) -> CostResult:
    """The cost of the transaction whose readings (first = its start) are given; time before
    the first segment's start is counted in usage but not priced."""
    ctx = context or Context(UTC)
    points = _points(readings)
    if not points:
        raise TariffError("cost: no meter reading")
    start = points[0].t
    segs = _segments(tariffs, start)

    def in_force(t: Decimal) -> Tariff | None:
        chosen = None
        for begins, tariff in segs:
            if begins <= t:
                chosen = tariff
        return chosen

    bounds: dict[int, _Bounds] = {}
    sums = {name: Amount() for name in _DIMENSIONS}
    first = in_force(start)
    fixed = Amount()
    if first is not None and first.fixed_fee is not None:
        local0 = _instant(start).astimezone(ctx.tz)
        for price in first.fixed_fee[0]:
            if fixed_holds(price.conditions, local0, ctx):
                fixed = Amount(price.price_fixed, with_tax(price.price_fixed, first.fixed_fee[1]))
                break
    periods: list[Period] = []
    energy = duration = charging_s = idle_s = _ZERO
    for here, there in itertools.pairwise(points):
        span = there.t - here.t
        rate = (there.e - here.e) / span  # Wh per second
        charging = rate > 0
        power = rate * 3600
        currents = [c for c in (here.current, there.current) if c is not None]
        current = sum(currents, _ZERO) / len(currents) if currents else None
        t = here.t
        while t < there.t:
            tariff = in_force(t)
            b = _UNPRICED if tariff is None else bounds.setdefault(id(tariff), _bounds(tariff))
            state = State(energy, duration, charging_s, idle_s, power, charging, current)
            local = _instant(t).astimezone(ctx.tz)
            cut = there.t
            for begins, _ in segs:
                if t < begins < cut:
                    cut = begins
            for value, speed, marks in (
                (energy, rate, b.energy), (duration, Decimal(1), b.time),
                (charging_s, Decimal(1 if charging else 0), b.charging),
                (idle_s, Decimal(0 if charging else 1), b.idle),
            ):
                step = _crossing(value, speed, marks)
                if step is not None and t + step < cut:
                    cut = t + step
            if b.minutes is not None:
                boundary = _seconds(next_local_boundary(_instant(t), b.minutes, ctx.tz))
                cut = min(cut, boundary)
            dt = cut - t
            de = rate * dt
            chosen: list[int | None] = []
            for name in _DIMENSIONS:
                dim: Any = None if tariff is None else getattr(tariff, name)
                index = None if dim is None else _first(dim[0], state, local, ctx)
                chosen.append(index)
                if index is None:
                    continue
                prices, taxes = dim
                net = _piece(name, prices[index], de, dt, charging)
                if net:
                    sums[name] += Amount(net, with_tax(net, taxes))
            tariff_id = None if tariff is None else tariff.tariff_id
            key = (tariff_id, charging, *chosen)
            if not periods or periods[-1].key != key:
                periods.append(Period(t, tariff_id, key))
            period = periods[-1]
            period.energy_wh += de
            if charging:
                period.charging_s += dt
                period.max_power_w = power if period.max_power_w is None else max(
                    period.max_power_w, power)
                period.min_power_w = power if period.min_power_w is None else min(
                    period.min_power_w, power)
            else:
                period.idle_s += dt
            energy = _snap(energy + de, b.energy)
            duration = _snap(duration + dt, b.time)
            if charging:
                charging_s = _snap(charging_s + dt, b.charging)
            else:
                idle_s = _snap(idle_s + dt, b.idle)
            t = cut
    return _result(in_force(points[-1].t) or segs[0][1], fixed, sums, periods, energy, duration,
                   charging_s, idle_s, decimals)


def _piece(name: str, price: Any, de: Decimal, dt: Decimal, charging: bool) -> Decimal:
    if name == "energy":
        return de / 1000 * price.price_kwh  # type: ignore[no-any-return]
    if (name == "charging_time") == charging:
        return dt / 60 * price.price_minute  # type: ignore[no-any-return]
    return _ZERO


def _result(last: Tariff, fixed: Amount, sums: Mapping[str, Amount], periods: list[Period],
            energy: Decimal, duration: Decimal, charging_s: Decimal, idle_s: Decimal,
            decimals: int) -> CostResult:
    total = fixed + sums["energy"] + sums["charging_time"] + sums["idle_time"]
    kind = "NormalCost"
    if last.min_cost is not None and (low := _limit(total, last.min_cost, True)) is not None:
        total, kind = low, "MinCost"
    if last.max_cost is not None and (high := _limit(total, last.max_cost, False)) is not None:
        total, kind = high, "MaxCost"
    total = Amount(max(total.excl_tax, _ZERO), max(total.incl_tax, _ZERO))  # never pays out
    return CostResult(last.currency, kind, fixed, sums["energy"], sums["charging_time"],
                      sums["idle_time"], total, energy, duration, charging_s, idle_s,
                      tuple(periods), decimals)


def tax_rates_of(tariff: Tariff, dimension: str) -> tuple[TaxRate, ...]:
    """The tax rates of one dimension (``energy``, ``charging_time``, ...), empty if none."""
    dim = getattr(tariff, dimension)
    return () if dim is None else tuple(dim[1])
