"""The RPC session and its driver alone: round trips in memory and bytes per idle Connection.

Two :class:`~ocppnet.transport.Connection` objects are joined by a wire that hands each frame
to the other side (no codec, no socket), so the figure is the cost of the call/answer rules
(``rpc/session.py``) plus the asyncio driver (futures, timer, eager handler worker) and the
validation of request and response; no baseline (the figure tracks this layer from run to
run). Memory: tracemalloc over a thousand attached, idle Connections, with a ceiling.
"""

from __future__ import annotations

import time
import tracemalloc
from typing import Any

from benchmarks.processes import run_loop, uvloop_available
from benchmarks.report import Row, Target
from ocppnet.rpc.frames import Frame
from ocppnet.transport import CallContext, Connection, Handlers

HEARTBEAT_OK = {"currentTime": "2025-01-01T00:00:00Z"}
IDLE_TARGET = Target("max_value", 512.0)  # was 2,080 B with a Lock, an Event and a deque


class _Wire:
    __slots__ = ("peer",)

    def __init__(self) -> None:
        self.peer: Connection | None = None

    async def send_frame(self, frame: Frame) -> None:
        assert self.peer is not None
        await self.peer.handle_frame(frame)


def _heartbeat(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
    return HEARTBEAT_OK


def _pair() -> Connection:
    handlers = Handlers()
    handlers.add("Heartbeat", _heartbeat)  # type: ignore[arg-type]
    up, down = _Wire(), _Wire()
    station = Connection(Handlers(), version="2.0.1", remote_id="CSMS", sender=up)
    up.peer = Connection(handlers, version="2.0.1", remote_id="CP1", sender=down)
    down.peer = station
    return station


async def _round_trips(seconds: float) -> float:
    call = _pair().call
    for _ in range(200):
        await call("Heartbeat", {})
    done, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(500):
            await call("Heartbeat", {})
        done += 500
    return done / elapsed


def idle_bytes(count: int = 1000) -> float:
    """Python allocations per attached, idle Connection (its session included)."""
    handlers, wire = Handlers(), _Wire()
    names = [f"CP{i}" for i in range(count)]
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        held = [Connection(handlers, version="2.0.1", remote_id=n, sender=wire) for n in names]
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert len(held) == count
    return grown / count


def run(quick: bool) -> list[Row]:
    seconds = 0.3 if quick else 2.0
    loop = "uvloop" if uvloop_available() else "asyncio"
    ours = run_loop(_round_trips(seconds), loop)
    return [
        Row("session", f"in-memory round trips/s, two Connections, validated ({loop})",
            "calls/s", ours,
            note="call + both sides' handle_frame + request/response validation, no codec "
                 "or socket: what the session and its driver cost"),
        Row("session", "bytes per idle attached Connection (tracemalloc)", "B",
            idle_bytes(), None, "", IDLE_TARGET),
    ]
