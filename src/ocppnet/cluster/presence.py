"""Presence and leases, as values and decisions: no NATS here, every function is pure.

* :class:`Lease` — a front-end is alive: its entry in the front-ends bucket (TTL = the lease)
  is renewed every ``lease_s / 3``; ``incarnation`` is new at every start, so a front-end
  restarted under the same id does not revive the entries of its previous life.
* :class:`PresenceEntry` — "station X is on front-end F (incarnation I)", written when the
  station connects. :func:`entry_is_live` says whether an entry still means something.
* :class:`PresenceTable` — what this front-end wants the bucket to say about its stations
  versus what it has written, as a queue of :class:`Put`/:class:`Delete` operations. A
  delete carries the revision of our own put (compare-and-set), so an entry written since by
  a newer front-end is never removed by the old one. Operations that fail are retried; a
  reconnect that comes before the write of the disconnect simply overwrites.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import orjson


class BadEntry(ValueError):
    """A bucket value that is not ours (the message says what is wrong)."""


def _time(value: Any, field: str) -> datetime:
    if not isinstance(value, str):
        raise BadEntry(f"{field}: expected an ISO 8601 time, got {value!r}")
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise BadEntry(f"{field}: expected an ISO 8601 time, got {value!r}") from None
    if at.tzinfo is None:
        raise BadEntry(f"{field}: expected a time with a UTC offset, got {value!r}")
    return at


def _text(data: dict[str, Any], field: str) -> str:
    value = data.get(field)
    if not isinstance(value, str) or not value:
        raise BadEntry(f"{field}: expected a non-empty string, got {value!r}")
    return value


def _object(raw: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadEntry(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadEntry(f"expected a JSON object, got {type(data).__name__}")
    return data


@dataclass(frozen=True, slots=True)
class Lease:
    """A live front-end, as written in the front-ends bucket."""

    frontend_id: str
    incarnation: str
    started: datetime
    renewed: datetime
    host: str = ""
    pid: int = 0
    stations: int = 0  # held when the lease was last renewed

    def encode(self) -> bytes:
        return orjson.dumps({
            "frontend": self.frontend_id, "incarnation": self.incarnation,
            "started": self.started.isoformat(), "renewed": self.renewed.isoformat(),
            "host": self.host, "pid": self.pid, "stations": self.stations,
        })

    @classmethod
    def decode(cls, raw: bytes) -> Lease:
        data = _object(raw)
        pid, stations = data.get("pid", 0), data.get("stations", 0)
        if not isinstance(pid, int) or not isinstance(stations, int):
            raise BadEntry(f"pid, stations: expected integers, got {pid!r}, {stations!r}")
        return cls(_text(data, "frontend"), _text(data, "incarnation"),
                   _time(data.get("started"), "started"), _time(data.get("renewed"), "renewed"),
                   str(data.get("host", "")), pid, stations)

    def renew(self, now: datetime, stations: int) -> Lease:
        return replace(self, renewed=now, stations=stations)

    def view(self) -> dict[str, Any]:
        """The JSON of ``GET /api/v1/cluster/frontends``."""
        return {"id": self.frontend_id, "incarnation": self.incarnation,
                "started": self.started.isoformat(), "renewed": self.renewed.isoformat(),
                "host": self.host, "pid": self.pid, "stations": self.stations}


@dataclass(frozen=True, slots=True)
class PresenceEntry:
    """Station ``station_id`` is connected to front-end ``frontend_id``."""

    station_id: str
    frontend_id: str
    incarnation: str
    version: str
    since: datetime
    path: tuple[str, ...] = ()

    def encode(self) -> bytes:
        return orjson.dumps({
            "station": self.station_id, "frontend": self.frontend_id,
            "incarnation": self.incarnation, "version": self.version,
            "since": self.since.isoformat(), "path": list(self.path),
        })

    @classmethod
    def decode(cls, raw: bytes) -> PresenceEntry:
        data = _object(raw)
        path = data.get("path", [])
        if not isinstance(path, list) or not all(isinstance(p, str) for p in path):
            raise BadEntry(f"path: expected a list of node ids, got {path!r}")
        return cls(_text(data, "station"), _text(data, "frontend"), _text(data, "incarnation"),
                   _text(data, "version"), _time(data.get("since"), "since"), tuple(path))

    def view(self) -> dict[str, Any]:
        """The JSON of ``GET /api/v1/cluster/stations/{id}``."""
        return {"station": self.station_id, "frontend": self.frontend_id,
                "version": self.version, "since": self.since.isoformat(),
                "path": list(self.path)}


def lease_is_live(lease: Lease | None, now: datetime, lease_s: float,
                  tolerance_s: float | None = None) -> bool:
    """Whether ``lease`` still holds at ``now``: present (the bucket's TTL removes expired
    ones) and renewed within ``lease_s`` (plus ``tolerance_s``, default one more lease, for
    clock differences between machines and the server's expiry timer)."""
    if lease is None:
        return False
    slack = lease_s if tolerance_s is None else tolerance_s
    return now - lease.renewed <= timedelta(seconds=lease_s + slack)


def entry_is_live(entry: PresenceEntry, lease: Lease | None, now: datetime,
                  lease_s: float) -> bool:
    """An entry is live while the front-end it names holds a live lease of the same
    incarnation; otherwise it is stale (the front-end died, or restarted and lost its links)."""
    return (lease is not None and lease.frontend_id == entry.frontend_id
            and lease.incarnation == entry.incarnation and lease_is_live(lease, now, lease_s))


def should_overwrite(existing: PresenceEntry | None, ours: PresenceEntry) -> bool:
    """Whether our put may replace ``existing``: the newest link wins (a station that
    connected here after connecting there has left there), so a put that was delayed, e.g.
    by a bus outage, never hides the station's newer link on another front-end."""
    if existing is None or (existing.frontend_id == ours.frontend_id
                            and existing.incarnation == ours.incarnation):
        return True
    return existing.since <= ours.since


def live_leases(leases: list[Lease], now: datetime, lease_s: float) -> list[Lease]:
    """The live ones, by front-end id."""
    return sorted((x for x in leases if lease_is_live(x, now, lease_s)),
                  key=lambda x: x.frontend_id)


# --- this front-end's writes -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Put:
    station_id: str
    entry: PresenceEntry


@dataclass(frozen=True, slots=True)
class Delete:
    station_id: str
    revision: int  # of our own put: compare-and-set


Op = Put | Delete


class PresenceTable:
    """This front-end's stations: what the bucket should say (``desired``) and what we
    wrote (``written``: station -> (revision, entry)). ``take()`` hands out the operations
    that bring the bucket in line, at most one in flight per station; ``done()`` records
    each result. Pure: the caller does the I/O."""

    def __init__(self) -> None:
        self.desired: dict[str, PresenceEntry] = {}
        self.written: dict[str, tuple[int, PresenceEntry]] = {}
        self._dirty: OrderedDict[str, None] = OrderedDict()
        self._in_flight: set[str] = set()

    def connected(self, entry: PresenceEntry) -> None:
        self.desired[entry.station_id] = entry
        self._dirty[entry.station_id] = None

    def disconnected(self, station_id: str) -> None:
        self.desired.pop(station_id, None)
        self._dirty[station_id] = None

    def leave(self) -> None:
        """This front-end stops: it holds none of its stations any more (their links'
        own disconnects may come after the stop)."""
        for station_id in list(self.desired):
            self.disconnected(station_id)

    def rewrite_all(self) -> None:
        """Write every held station again (after our lease lapsed, others may have removed
        our entries as stale)."""
        self.written.clear()
        for station_id in self.desired:
            self._dirty[station_id] = None

    @property
    def pending(self) -> int:
        """Stations whose entry is not yet as desired (or being written)."""
        return len(self._dirty) + len(self._in_flight)

    def _op_for(self, station_id: str) -> Op | None:
        want = self.desired.get(station_id)
        have = self.written.get(station_id)
        if want is not None:
            return None if have is not None and have[1] == want else Put(station_id, want)
        return None if have is None else Delete(station_id, have[0])

    def take(self, limit: int) -> list[Op]:
        """Up to ``limit`` operations, none for a station that already has one in flight."""
        ops: list[Op] = []
        for station_id in list(self._dirty):
            if len(ops) >= limit:
                break
            if station_id in self._in_flight:
                continue
            del self._dirty[station_id]
            op = self._op_for(station_id)
            if op is not None:
                self._in_flight.add(station_id)
                ops.append(op)
        return ops

    def done(self, op: Op, *, revision: int | None = None, failed: bool = False,
             superseded: bool = False) -> None:
        """``revision``: of a successful put. ``superseded``: the delete found another
        front-end's entry (compare-and-set refused), so there is nothing of ours left.
        ``superseded`` on a put: the bucket names a newer link on another front-end
        (:func:`should_overwrite` said no), so this station is not ours to announce.
        ``failed``: the bucket could not be reached; the operation is retried."""
        station_id = op.station_id
        self._in_flight.discard(station_id)
        if failed:
            self._dirty[station_id] = None
            return
        if isinstance(op, Put) and not superseded:
            if revision is None:
                raise ValueError("a successful put has a revision")
            self.written[station_id] = (revision, op.entry)
        elif isinstance(op, Put):  # a newer link elsewhere: the key is not ours to write
            self.written.pop(station_id, None)
            if self.desired.get(station_id) == op.entry:
                del self.desired[station_id]
        else:
            self.written.pop(station_id, None)
        if self._op_for(station_id) is not None:
            self._dirty[station_id] = None
