"""The pure allocation rule: max-min fair limits per EVSE under a site limit, with hysteresis.

No I/O, no clock: the caller passes the site limit, the charging EVSEs and what was last sent.
Contract: the limits returned (after :func:`with_hysteresis` too) never sum above the site limit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

EvseKey = tuple[str, int]
"""(station id, EVSE id; the connectorId in OCPP 1.6)."""


@dataclass(frozen=True, slots=True)
class EvseDemand:
    """One EVSE with an active session, as the allocator sees it.

    ``measured_w`` is the last measured power (None: not known yet). ``started_at`` orders the
    sessions: when the limit cannot give every EVSE its minimum, the latest arrivals pause.
    """

    key: EvseKey
    min_w: float
    max_w: float
    started_at: float
    measured_w: float | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.min_w <= self.max_w:
            raise ValueError(f"{self.key}: need 0 <= min_w <= max_w")


@dataclass(frozen=True, slots=True)
class Hysteresis:
    """A limit is re-sent only when it moves by more than ``abs_w`` W *and* ``rel`` of the old."""

    abs_w: float = 500.0
    rel: float = 0.05


def demand_w(evse: EvseDemand, previous_w: float | None, margin_w: float) -> float:
    """What the EVSE wants, from its measured power.

    An EVSE that draws close to its current limit (or is not measured yet) may want its
    maximum; one that draws clearly less (a tapering battery) wants what it draws plus
    ``margin_w``. The result is clamped to [min_w, max_w].
    """
    wanted = evse.max_w
    measured = evse.measured_w
    if measured is not None and previous_w and measured < previous_w - margin_w:
        wanted = measured + margin_w
    return min(evse.max_w, max(evse.min_w, wanted))


def water_fill(budget: float, caps: Mapping[EvseKey, float]) -> dict[EvseKey, float]:
    """Max-min fair split of ``budget``: equal shares, what a small cap leaves goes to others."""
    share: dict[EvseKey, float] = {}
    left = max(0.0, budget)
    pending = sorted(caps.items(), key=lambda item: item[1])
    while pending:
        level = left / len(pending)
        key, cap = pending[0]
        if cap <= level:
            share[key] = cap
            left -= cap
            pending.pop(0)
            continue
        for key, _ in pending:
            share[key] = level
        break
    return share


def allocate(
    site_limit_w: float,
    evses: Sequence[EvseDemand],
    previous: Mapping[EvseKey, float] | None = None,
    *,
    margin_w: float = 1_000.0,
) -> dict[EvseKey, float]:
    """A limit (W, whole watts) per EVSE: 0 (paused) or within [min_w, max_w]; sum <= site limit.

    First every EVSE is filled towards its demand (max-min fair), then the headroom that is
    left goes, again fairly, to those below their maximum. If a share would fall below an
    EVSE's minimum, the most recently started session pauses (OCPP: below min, charge 0) and
    the rest are allocated again.
    """
    previous = previous or {}
    active = sorted(evses, key=lambda e: (e.started_at, e.key))
    result: dict[EvseKey, float] = {e.key: 0.0 for e in evses}
    budget = float(math.floor(max(0.0, site_limit_w)))  # whole watts: floors sum below it
    while active:
        wants = {e.key: demand_w(e, previous.get(e.key), margin_w) for e in active}
        first = water_fill(budget, wants)
        rest = budget - sum(first.values())
        room = {e.key: e.max_w - first[e.key] for e in active}
        extra = water_fill(rest, room)
        shares = {key: math.floor(first[key] + extra[key]) for key in first}
        if all(shares[e.key] >= e.min_w for e in active):
            result.update({key: float(value) for key, value in shares.items()})
            break
        active.pop()  # the latest arrival waits
    return result


def with_hysteresis(
    site_limit_w: float,
    wanted: Mapping[EvseKey, float],
    sent: Mapping[EvseKey, float],
    hysteresis: Hysteresis,
) -> dict[EvseKey, float]:
    """The limits to have in force: ``wanted`` where the change is worth a message, else the
    limit already ``sent``. Pausing and resuming always count; a kept old limit that would push
    the sum over the site limit is replaced by the wanted one (largest excess first)."""
    result: dict[EvseKey, float] = {}
    for key, new in wanted.items():
        old = sent.get(key)
        if old is None or (old == 0) != (new == 0):
            result[key] = new
            continue
        delta = abs(new - old)
        result[key] = new if delta > hysteresis.abs_w and delta > hysteresis.rel * old else old
    kept_above = sorted(
        (key for key in result if result[key] > wanted[key]),
        key=lambda key: result[key] - wanted[key], reverse=True,
    )
    for key in kept_above:
        if sum(result.values()) <= site_limit_w:
            break
        result[key] = wanted[key]
    return result
