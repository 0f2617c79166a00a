"""A short-lived cache of presence lookups, so that one operator-API call (which asks for
the station's version, validates, then calls) reads the bucket once, not three times. Pure:
the caller passes ``now`` (a monotonic clock).

An entry older than ``ttl_s`` is not used; a call that finds the cached front-end wrong
("not here", or gone) looks the station up afresh before giving up, so a stale entry costs
one extra request, never a wrong answer. ``ttl_s = 0`` disables it.
"""

from __future__ import annotations

from collections import OrderedDict

from ocppnet.cluster.presence import PresenceEntry


class LookupCache:
    def __init__(self, ttl_s: float, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, PresenceEntry]] = OrderedDict()

    def get(self, station_id: str, now: float) -> PresenceEntry | None:
        found = self._entries.get(station_id)
        if found is None:
            return None
        if now - found[0] >= self.ttl_s:
            del self._entries[station_id]
            return None
        return found[1]

    def put(self, entry: PresenceEntry, now: float) -> None:
        if self.ttl_s <= 0:
            return
        self._entries[entry.station_id] = (now, entry)
        self._entries.move_to_end(entry.station_id)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def drop(self, station_id: str) -> None:
        self._entries.pop(station_id, None)

    def __len__(self) -> int:
        return len(self._entries)
