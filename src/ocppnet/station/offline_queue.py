"""Transaction messages waiting for the CSMS, oldest first.

Transaction messages (TransactionEvent; StartTransaction, MeterValues, StopTransaction) are
never sent directly: they go through this queue, so those produced while offline are
delivered in order after reconnect, before newer ones. When the queue is full, periodic
samples are refused first; starts and ends are always kept.
"""

from __future__ import annotations

from collections import deque
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ocppnet.station.offline_store import QueueFile


@dataclass(slots=True)
class QueuedMessage:
    action: str
    payload: dict[str, Any]
    tx_ref: str | None = None  # the model's transaction id (1.6 swaps in the CSMS's id)
    droppable: bool = False  # a periodic sample: the first thing to go when full
    attempts: int = 0  # CALLERRORs so far (in memory: a restart tries afresh)


class OfflineQueue:
    """A FIFO with a soft ``limit`` that only droppable messages respect; with a ``file``
    (:class:`~ocppnet.station.offline_store.QueueFile`) every message is on disk from push
    to pop, and what a killed process left behind is loaded again."""

    __slots__ = ("_file", "_items", "_next", "dropped", "ids", "limit", "station")

    def __init__(
        self, limit: int = 1_000, *, file: QueueFile | None = None, station: str = ""
    ) -> None:
        self._items: deque[tuple[int, QueuedMessage]] = deque()
        self.limit = limit
        self.dropped = 0
        self._file = file
        self.station = station
        self.ids: MutableMapping[str, int] = {} if file is None else file.ids(station)
        """1.6: the station's own transaction id -> the CSMS's (kept with the queue)."""
        if file is not None:
            for seq, action, payload, tx_ref, droppable in file.load(station):
                self._items.append((seq, QueuedMessage(action, payload, tx_ref, droppable)))
        self._next = self._items[-1][0] + 1 if self._items else 1

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Any:
        return (message for _, message in self._items)

    def push(self, message: QueuedMessage) -> bool:
        """Append; returns False (and counts it) when a droppable message does not fit."""
        if message.droppable and len(self._items) >= self.limit:
            self.dropped += 1
            return False
        seq, self._next = self._next, self._next + 1
        if self._file is not None:
            self._file.append(self.station, seq, message.action, message.payload,
                              message.tx_ref, message.droppable)
        self._items.append((seq, message))
        return True

    def peek(self) -> QueuedMessage | None:
        return self._items[0][1] if self._items else None

    def pop(self) -> QueuedMessage:
        seq, message = self._items.popleft()
        if self._file is not None:
            self._file.remove(self.station, seq)
        return message
