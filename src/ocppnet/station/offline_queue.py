"""Transaction messages waiting for the CSMS, oldest first.

Transaction messages (TransactionEvent; StartTransaction, MeterValues, StopTransaction) are
never sent directly: they go through this queue, so those produced while offline are
delivered in order after reconnect, before newer ones. When the queue is full, periodic
samples are refused first; starts and ends are always kept.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class QueuedMessage:
    action: str
    payload: dict[str, Any]
    tx_ref: str | None = None  # the model's transaction id (1.6 swaps in the CSMS's id)
    droppable: bool = False  # a periodic sample: the first thing to go when full


class OfflineQueue:
    """An in-memory FIFO with a soft ``limit`` that only droppable messages respect."""

    __slots__ = ("_items", "dropped", "limit")

    def __init__(self, limit: int = 1_000) -> None:
        self._items: deque[QueuedMessage] = deque()
        self.limit = limit
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Any:
        return iter(self._items)

    def push(self, message: QueuedMessage) -> bool:
        """Append; returns False (and counts it) when a droppable message does not fit."""
        if message.droppable and len(self._items) >= self.limit:
            self.dropped += 1
            return False
        self._items.append(message)
        return True

    def peek(self) -> QueuedMessage | None:
        return self._items[0] if self._items else None

    def pop(self) -> QueuedMessage:
        return self._items.popleft()
