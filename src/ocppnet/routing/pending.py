"""Requests in flight through this node, for response correlation and timeouts.

Only two kinds of request need an entry (docs/routing.md "Correlation"):
- sent on a *standard* link: the station answers without DEST/PATH, so the answer is
  matched by ``(out_link, messageId)`` and sent on to the request's source;
- received on a *standard* link and sent on over the overlay (the edge node): the answer
  comes back with DEST = the station, matched by ``(source, messageId)``; the entry lets the
  node answer with an error in time when the upstream is lost or silent.
Transit overlay-to-overlay requests are not tracked: responses follow the normal routes.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, TypeAlias

_Key: TypeAlias = tuple[Literal["link", "source"], str, str]


@dataclass(frozen=True, slots=True)
class PendingRequest:
    message_id: str
    action: str
    source: str
    """PATH[0] of the request: where the response must go."""
    dest: str
    """The request's DEST: who was asked."""
    in_link: str | None
    """The link the request came from; None when this node originated it."""
    out_link: str
    out_standard: bool
    """True when ``out_link`` is standard mode (the answer is matched by link)."""
    deadline: float

    @property
    def key(self) -> _Key:
        if self.out_standard:
            return ("link", self.out_link, self.message_id)
        return ("source", self.source, self.message_id)


class PendingTable:
    """Pending requests by key, with deadlines; pure (``now`` is passed in)."""

    def __init__(self) -> None:
        self._entries: dict[_Key, PendingRequest] = {}
        self._deadlines: list[tuple[float, int, _Key]] = []
        self._seq = itertools.count()

    def add(self, entry: PendingRequest) -> bool:
        """Track ``entry``; False (nothing changed) when another source holds its key.

        The same source reusing a message id replaces its old entry (a station retrying).
        """
        key = entry.key
        current = self._entries.get(key)
        if current is not None and current.source != entry.source:
            return False
        self._entries[key] = entry
        heapq.heappush(self._deadlines, (entry.deadline, next(self._seq), key))
        return True

    def pop_link(self, link_id: str, message_id: str) -> PendingRequest | None:
        """The request sent on standard link ``link_id`` that this answer belongs to."""
        return self._entries.pop(("link", link_id, message_id), None)

    def pop_source(self, source: str, message_id: str) -> PendingRequest | None:
        """The request from ``source`` (the answer's DEST) tracked at the edge."""
        return self._entries.pop(("source", source, message_id), None)

    def expire(self, now: float) -> list[PendingRequest]:
        """Remove and return the requests whose deadline has passed, oldest first."""
        expired: list[PendingRequest] = []
        while self._deadlines and self._deadlines[0][0] <= now:
            deadline, _, key = heapq.heappop(self._deadlines)
            entry = self._entries.get(key)
            if entry is not None and entry.deadline == deadline:
                del self._entries[key]
                expired.append(entry)
        return expired

    def drop_link(self, link_id: str) -> list[PendingRequest]:
        """Link down: remove and return the requests sent on it or received from it."""
        gone = [
            key
            for key, entry in self._entries.items()
            if link_id in (entry.out_link, entry.in_link)
        ]
        return [self._entries.pop(key) for key in gone]

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[PendingRequest]:
        return iter(list(self._entries.values()))
