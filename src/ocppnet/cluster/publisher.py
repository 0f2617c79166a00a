"""The CSMS event bus on JetStream: every event ``app.bus`` publishes goes to
``ocppnet.<csms>.<kind>.<station>`` as ``event_to_json`` (captured by the events stream).

Publishing never blocks nor fails station handling: the bus listener only appends to a
bounded buffer (full: the oldest event is dropped and counted), and a background task sends
what is buffered while the bus is connected (NATS core publish into the stream's subjects:
no per-event acknowledgement to wait for).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

import nats
import orjson
from nats.aio.client import Client

from ocppnet.cluster.metrics import ClusterMetrics
from ocppnet.cluster.names import ClusterNames
from ocppnet.csms.events import Event, event_to_json

log = logging.getLogger("ocppnet.cluster")

FLUSH_EVERY = 256


class EventPublisher:
    def __init__(self, nc: Client, names: ClusterNames, *, buffer: int,
                 metrics: ClusterMetrics) -> None:
        self.nc = nc
        self.names = names
        self.metrics = metrics
        self._buffer: deque[Event] = deque()  # encoded by the sending task, not the caller
        self._limit = buffer
        self._wake = asyncio.Event()
        self._empty = asyncio.Event()
        self._empty.set()
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def offer(self, event: Event) -> None:
        """The bus listener: buffer ``event`` (synchronous, never raises for a full buffer)."""
        if len(self._buffer) >= self._limit:
            self._buffer.popleft()
            self.dropped += 1
            self.metrics.events_dropped.inc()
        self._buffer.append(event)
        self._empty.clear()
        self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="event-publisher")

    async def stop(self, timeout: float = 2.0) -> None:  # noqa: ASYNC109
        """Send what is buffered (up to ``timeout``), then stop."""
        if self._task is None:
            return
        if self.nc.is_connected:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._empty.wait(), timeout)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        if self.nc.is_connected:
            with contextlib.suppress(nats.errors.Error, OSError, TimeoutError):
                await self.nc.flush(timeout=1)

    async def _run(self) -> None:
        sent = 0
        while True:
            if not self._buffer:
                self._empty.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            if not self.nc.is_connected:  # keep them (bounded) until the bus is back
                await asyncio.sleep(0.2)
                continue
            event = self._buffer[0]
            try:
                subject = self.names.event_subject(event.kind, event.station_id)
            except ValueError as exc:  # a kind the stream has no subject for
                self._buffer.popleft()
                self.dropped += 1
                self.metrics.events_dropped.inc()
                log.warning("event=event_not_published kind=%s error=%s", event.kind, exc)
                continue
            try:
                await self.nc.publish(subject, orjson.dumps(event_to_json(event)))
            except nats.errors.Error as exc:
                log.warning("event=event_publish_failed subject=%s error=%s", subject, exc)
                await asyncio.sleep(0.2)
                continue
            self._buffer.popleft()
            self.metrics.events_published.inc()
            sent += 1
            if sent % FLUSH_EVERY == 0:
                await asyncio.sleep(0)  # let the station handlers run between bursts
