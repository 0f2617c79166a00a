"""A minimal CSMS for the station's loopback tests, built from the transport's own server.

It answers what a station sends, records every request (after checking it against the
official schema), and lets a test wait for a condition on what it received.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from ocppnet.station.clock import SimClock
from ocppnet.station.model import StationConfig
from ocppnet.station.runtime import SimulatedStation
from ocppnet.station.scenario import Scenario
from ocppnet.transport import Backoff, CallContext, CsmsServer, Handlers, serve_csms
from ocppnet.validation import validate

NOW = "2025-01-01T00:00:00.000Z"
Record = tuple[str, str, dict[str, Any]]  # (station id, action, payload)


class MiniCsms:
    def __init__(self) -> None:
        self.handlers = Handlers()
        self.received: list[Record] = []
        self.invalid: list[str] = []
        self.boot_answers: list[tuple[str, int]] = []  # consumed first, then Accepted/300
        self.authorize_status = "Accepted"
        self.server: CsmsServer | None = None
        self.port = 0
        self._changed = asyncio.Event()
        self._tx_ids = itertools.count(100)
        for action in ("BootNotification", "Heartbeat", "StatusNotification", "Authorize",
                       "TransactionEvent", "MeterValues", "StartTransaction",
                       "StopTransaction"):
            self.handlers.add(action, self._handler(action))

    def _handler(self, action: str) -> Callable[[CallContext, dict[str, Any]], Any]:
        async def handle(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
            failure = validate(ctx.version, action, "request", payload)
            if failure is not None:
                self.invalid.append(f"{action}: {failure.description}")
            self.received.append((ctx.remote_id, action, payload))
            self._changed.set()
            return self.answer(ctx.version, action, payload)
        return handle

    def answer(self, version: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        v16 = version == "1.6"
        if action == "BootNotification":
            status, interval = self.boot_answers.pop(0) if self.boot_answers else ("Accepted", 300)
            return {"status": status, "interval": interval, "currentTime": NOW}
        if action == "Heartbeat":
            return {"currentTime": NOW}
        if action == "Authorize":
            key = "idTagInfo" if v16 else "idTokenInfo"
            return {key: {"status": self.authorize_status}}
        if action == "StartTransaction":
            return {"transactionId": next(self._tx_ids), "idTagInfo": {"status": "Accepted"}}
        if action == "StopTransaction":
            return {"idTagInfo": {"status": "Accepted"}}
        return {}

    async def start(self) -> None:
        self.server = await serve_csms(self.handlers, "127.0.0.1", self.port)
        self.port = self.server.port

    async def stop(self) -> None:
        assert self.server is not None
        await self.server.close()
        self.server = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    def of(self, action: str, station: str | None = None) -> list[dict[str, Any]]:
        return [p for s, a, p in self.received if a == action and station in (None, s)]

    async def wait_for(self, predicate: Callable[[], Any]) -> Any:
        """Wait until ``predicate()`` is truthy (a 10 s guard only stops a hung test)."""
        async with asyncio.timeout(10.0):
            while not (result := predicate()):
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), 0.05)
            return result

    async def call(self, station_id: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.server is not None
        return await self.server.connections[station_id].call(action, payload)


@pytest.fixture
async def csms() -> AsyncIterator[MiniCsms]:
    server = MiniCsms()
    await server.start()
    yield server
    if server.server is not None:
        await server.stop()
    assert server.invalid == []


FAST_BACKOFF = Backoff(base=0.05, cap=0.2, jitter=0.05)


def make_station(csms: MiniCsms, version: str = "2.0.1", *, station_id: str = "CS-1",
                 speed: float = 100.0, **scenario: Any) -> SimulatedStation:
    options: dict[str, Any] = {"auto": False, "meter_interval_s": 10.0, "heartbeat_s": 600.0}
    options.update(scenario)
    return SimulatedStation(
        station_id, csms.url, version=version, config=StationConfig(evse_max_power_w=11_000),
        scenario=Scenario(**options), clock=SimClock(speed=speed), backoff=FAST_BACKOFF,
        seed=1, call_timeout=5.0)


@pytest.fixture
async def running() -> AsyncIterator[Callable[[SimulatedStation], SimulatedStation]]:
    """Start stations as tasks; close them all at the end of the test."""
    tasks: list[tuple[SimulatedStation, asyncio.Task[None]]] = []

    def start(station: SimulatedStation) -> SimulatedStation:
        tasks.append((station, asyncio.create_task(station.run())))
        return station

    yield start
    for station, task in tasks:
        await station.close()
        await asyncio.wait_for(task, 5)
