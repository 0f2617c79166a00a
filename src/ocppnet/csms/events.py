"""The CSMS event bus: what the dashboard (and tests) watch happen, live.

Publishing never waits: each subscriber has a bounded queue, and when a slow subscriber's
queue is full its oldest event is dropped and counted (``Subscription.dropped``), so a
stalled browser can never slow the CSMS down.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Literal, TypeAlias

DEFAULT_QUEUE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class MessageSeen:
    """An OCPP message in or out of the CSMS."""

    at: datetime
    station_id: str
    direction: Literal["in", "out"]
    message_type: int  # 2 CALL, 3 CALLRESULT, 4 CALLERROR, 5 CALLRESULTERROR, 6 SEND
    message_id: str
    action: str | None
    path: tuple[str, ...] = ()
    signature: str | None = None  # verdict if known: "valid", "invalid", "unsigned", ...
    payload_size: int = 0

    kind = "message"


@dataclass(frozen=True, slots=True)
class StationChanged:
    """A station connected, disconnected or (re)booted."""

    at: datetime
    station_id: str
    connected: bool
    boot_status: str | None = None
    ocpp_version: str | None = None
    path: tuple[str, ...] = ()

    kind = "station"


@dataclass(frozen=True, slots=True)
class ConnectorChanged:
    at: datetime
    station_id: str
    evse_id: int
    connector_id: int
    status: str

    kind = "connector"


@dataclass(frozen=True, slots=True)
class EnergyChanged:
    """A transaction started, delivered energy, or ended."""

    at: datetime
    station_id: str
    transaction_id: str
    state: Literal["active", "ended"]
    energy_wh: float | None
    evse_id: int | None = None

    kind = "energy"


Event: TypeAlias = MessageSeen | StationChanged | ConnectorChanged | EnergyChanged


_FIELDS: dict[type, tuple[str, ...]] = {}


def event_to_json(event: Event) -> dict[str, Any]:
    """A JSON-ready dict with a ``kind`` field (times as ISO 8601), for SSE/WebSocket (and
    the bus, for every event: the fields are read directly, no deep copy as ``asdict``)."""
    names = _FIELDS.get(type(event))
    if names is None:
        names = _FIELDS[type(event)] = tuple(f.name for f in fields(event))
    data = {name: getattr(event, name) for name in names}
    data["kind"] = event.kind
    data["at"] = event.at.isoformat()
    if "path" in data:
        data["path"] = list(data["path"])
    return data


class Subscription:
    """One subscriber's bounded queue; iterate with ``async for`` or ``await get()``."""

    def __init__(self, bus: EventBus, maxsize: int) -> None:
        self._bus = bus
        self._queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)
        self.dropped = 0
        self.closed = False

    def _offer(self, event: Event) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(event)

    async def get(self) -> Event:
        return await self._queue.get()

    def get_nowait(self) -> Event | None:
        """The next event if one is queued, else None."""
        return None if self._queue.empty() else self._queue.get_nowait()

    def pending(self) -> int:
        return self._queue.qsize()

    def close(self) -> None:
        """Stop receiving; events already queued can still be read."""
        self.closed = True
        self._bus._remove(self)

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            yield await self._queue.get()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EventBus:
    """Fan-out of CSMS events to any number of subscribers; ``publish`` never blocks."""

    def __init__(self) -> None:
        self._subscribers: list[Subscription] = []
        self._listeners: list[Callable[[Event], None]] = []
        self.published = 0

    def subscribe(self, maxsize: int = DEFAULT_QUEUE_SIZE) -> Subscription:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        sub = Subscription(self, maxsize)
        self._subscribers.append(sub)
        return sub

    def listen(self, callback: Callable[[Event], None]) -> None:
        """Call ``callback(event)`` on every publish, synchronously (it must not block)."""
        self._listeners.append(callback)

    def publish(self, event: Event) -> None:
        self.published += 1
        for sub in self._subscribers:
            sub._offer(event)
        for listener in self._listeners:
            listener(event)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    @property
    def listened(self) -> bool:
        """Whether a publish would reach anyone (publishers may skip building the event)."""
        return bool(self._subscribers or self._listeners)

    def _remove(self, sub: Subscription) -> None:
        if sub in self._subscribers:
            self._subscribers.remove(sub)
