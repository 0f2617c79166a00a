"""Usage statistics without personal data: sessions, energy and utilisation per EVSE and day.

Input is the store's transactions; output holds only counts and sums per (EVSE, local day):
no id tokens, no transaction ids, no start or stop times of a session. A session counts on
the local day (the location's time zone) it started; its energy is that of the whole session;
its occupied time is split over the days it spans (an active session up to ``now``).
Energy is rounded to 0.1 kWh, utilisation (occupied time / 24 h) to 0.001.

Small cells identify people (one session a day at one EVSE is one driver's habit), so a cell
with fewer than ``k`` sessions that is not empty (a session that began the day before still
occupies it) is not published alone: the small cells of
one location and day are merged into one ``evse: null`` cell counting the EVSEs in it; if the
merged cell is still below ``k`` it is suppressed, and only the number of suppressed cells
is published. A location-day total is never published next to its parts, so no small cell
can be recovered by subtraction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ocppnet.nap.sites import Sites
from ocppnet.store.records import TransactionRecord

__all__ = ["Cell", "Statistics", "statistics"]

_DAY_S = 86_400.0


@dataclass(slots=True)
class Cell:
    location: str
    day: date
    evse: str | None  # None: merged small cells of the location
    evses: int
    sessions: int = 0
    energy_wh: float = 0.0
    occupied_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "date": self.day.isoformat(),
            "evse": self.evse,
            "evses": self.evses,
            "sessions": self.sessions,
            "energy_kwh": round(self.energy_wh / 1000.0, 1),
            # overlapping sessions on one EVSE (a station's bookkeeping error) cap at 1
            "utilisation": round(min(1.0, self.occupied_s / (_DAY_S * self.evses)), 3),
        }


@dataclass(frozen=True, slots=True)
class Statistics:
    k: int
    first_day: date
    last_day: date
    cells: list[Cell]
    suppressed: int

    def to_json(self) -> dict[str, Any]:
        return {
            "k_anonymity": self.k,
            "from": self.first_day.isoformat(),
            "to": self.last_day.isoformat(),
            "cells": [c.to_json() for c in self.cells],
            "suppressed_cells": self.suppressed,
        }


def _days(start: datetime, end: datetime, zone: ZoneInfo) -> Iterable[tuple[date, float]]:
    """(local day, seconds of [start, end) on it)."""
    local, stop = start.astimezone(zone), end.astimezone(zone)
    while local < stop:
        midnight = datetime.combine(local.date() + timedelta(days=1), time(), tzinfo=zone)
        upto = min(midnight, stop)
        yield local.date(), (upto - local).total_seconds()
        local = upto


def statistics(sites: Sites, transactions: Iterable[TransactionRecord], *, first_day: date,
               last_day: date, now: datetime, k: int | None = None) -> Statistics:
    """Cells for every EVSE of ``sites`` and every local day in ``[first_day, last_day]``."""
    k = sites.k_anonymity if k is None else k
    where: dict[tuple[str, int], tuple[str, str, ZoneInfo]] = {}
    cells: dict[tuple[str, date], Cell] = {}
    days = [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]
    for location in sites.locations:
        zone = ZoneInfo(location.time_zone)
        for evse in location.evses:
            where[(evse.station, evse.ocpp_evse)] = (location.id, evse.uid, zone)
            for day in days:
                cells[(evse.uid, day)] = Cell(location.id, day, evse.uid, 1)
    for tx in transactions:
        if tx.evse_id is None or (tx.station_id, tx.evse_id) not in where:
            continue
        _, uid, zone = where[(tx.station_id, tx.evse_id)]
        started = tx.started_at.astimezone(UTC)
        start_cell = cells.get((uid, started.astimezone(zone).date()))
        if start_cell is not None:
            start_cell.sessions += 1
            start_cell.energy_wh += max(tx.energy_wh or 0.0, 0.0)
        for day, seconds in _days(started, min(tx.stopped_at or now, now), zone):
            cell = cells.get((uid, day))
            if cell is not None:
                cell.occupied_s += seconds
    return _protect(sites, cells, k, first_day, last_day)


def _protect(sites: Sites, cells: dict[tuple[str, date], Cell], k: int,
             first_day: date, last_day: date) -> Statistics:
    published: list[Cell] = []
    suppressed = 0
    small: dict[tuple[str, date], Cell] = {}
    for cell in cells.values():
        if cell.sessions >= k or (cell.sessions == 0 and cell.occupied_s == 0):
            published.append(cell)
            continue
        merged = small.setdefault((cell.location, cell.day),
                                  Cell(cell.location, cell.day, None, 0))
        merged.evses += 1
        merged.sessions += cell.sessions
        merged.energy_wh += cell.energy_wh
        merged.occupied_s += cell.occupied_s
    for merged in small.values():
        if merged.sessions >= k:
            published.append(merged)
        else:
            suppressed += merged.evses
    order = {loc.id: n for n, loc in enumerate(sites.locations)}
    published.sort(key=lambda c: (c.day, order[c.location], c.evse is None, c.evse or ""))
    return Statistics(k, first_day, last_day, published, suppressed)
