"""Building blocks for the node's loopback tests: a recording CSMS, nodes, stations."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from ocppnet.node.config import parse_config
from ocppnet.node.overlay_csms import OverlayCsmsServer, serve_overlay_csms
from ocppnet.node.service import Node
from ocppnet.transport import Backoff, CallContext, Handlers

NOW = "2026-01-01T00:00:00Z"
BOOT = {"chargingStation": {"model": "M1", "vendorName": "ocppnet"}, "reason": "PowerUp"}
FAST = Backoff(base=0.05, cap=0.2, jitter=0.0)


def transaction_event(seq_no: int, tx_id: str = "TX-1") -> dict[str, Any]:
    return {
        "eventType": "Updated",
        "timestamp": NOW,
        "triggerReason": "MeterValuePeriodic",
        "seqNo": seq_no,
        "transactionInfo": {"transactionId": tx_id},
    }


async def until(predicate: Callable[[], bool], what: str, limit: float = 10.0) -> None:
    """Wait for a state of the system under test that no event announces (polls; fails with
    ``what`` after ``limit`` seconds, a safety net, not a speed claim)."""
    async with asyncio.timeout(limit):
        while not predicate():  # noqa: ASYNC110 - the state has no event to wait on
            await asyncio.sleep(0.01)
    assert predicate(), what


@dataclass
class Recorder:
    """A CSMS's handlers that note every request: (station, action, path, payload)."""

    seen: list[tuple[str, str, tuple[str, ...], dict[str, Any]]] = field(default_factory=list)
    handlers: Handlers = field(default_factory=Handlers)

    def __post_init__(self) -> None:
        h = self.handlers

        def note(ctx: CallContext, payload: dict[str, Any]) -> None:
            self.seen.append((ctx.remote_id, ctx.action, ctx.path, payload))

        @h.on("BootNotification")
        async def boot(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
            note(ctx, payload)
            if ctx.version == "1.6":
                return {"currentTime": NOW, "interval": 300, "status": "Accepted"}
            return {"currentTime": NOW, "interval": 300, "status": "Accepted"}

        @h.on("Heartbeat")
        async def heartbeat(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
            note(ctx, payload)
            return {"currentTime": NOW}

        @h.on("TransactionEvent")
        async def transaction(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
            note(ctx, payload)
            return {}

        @h.on("DataTransfer")
        async def data(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
            note(ctx, payload)
            return {"status": "Accepted", "data": ctx.remote_id}

        @h.on("StatusNotification")
        async def status(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
            note(ctx, payload)
            return {}

    def actions(self, action: str) -> list[tuple[str, tuple[str, ...], dict[str, Any]]]:
        return [(s, p, body) for s, a, p, body in self.seen if a == action]


def station_handlers(calls: list[tuple[str, dict[str, Any]]] | None = None) -> Handlers:
    """A station that accepts Reset and SetChargingProfile (and notes them)."""
    handlers = Handlers()

    @handlers.on("Reset")
    async def reset(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        if calls is not None:
            calls.append(("Reset", payload))
        return {"status": "Accepted"}

    @handlers.on("SetChargingProfile")
    async def profile(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        if calls is not None:
            calls.append(("SetChargingProfile", payload))
        return {"status": "Accepted"}

    return handlers


def node_config(node_id: str, upstreams: list[dict[str, Any]], **extra: Any) -> Any:
    return parse_config({"node": {"id": node_id, "upstreams": upstreams, **extra}})


def upstream(csms_id: str, port: int, mode: str = "overlay", **extra: Any) -> dict[str, Any]:
    return {"id": csms_id, "url": f"ws://127.0.0.1:{port}/ocpp", "mode": mode, **extra}


@contextlib.asynccontextmanager
async def running_node(config: Any, *, wait_up: bool = True) -> AsyncIterator[Node]:
    """A started node with a fast reconnect schedule; waits until its upstreams are up."""
    node = Node(config)
    for up in node.upstreams.values():
        up.backoff = FAST
    await node.start()
    try:
        if wait_up:
            for up in node.upstreams.values():
                await asyncio.wait_for(up.link_up.wait(), 10)
        yield node
    finally:
        await node.stop()


@contextlib.asynccontextmanager
async def overlay_csms(
    recorder: Recorder, node_id: str = "CSMS-1", port: int = 0
) -> AsyncIterator[OverlayCsmsServer]:
    server = await serve_overlay_csms(recorder.handlers, port=port, node_id=node_id)
    try:
        yield server
    finally:
        await server.close()


def station_url(node: Node) -> str:
    return f"ws://127.0.0.1:{node.port}/ocpp"
