"""Operator API calls/s: ``POST /api/v1/stations/{id}/call`` (Reset) to stations behind a
networking node, against the same calls made in-process with ``CsmsApp.call`` (no HTTP).

Everything runs in this process on loopback (CSMS + API on uvicorn, NODE-A, the stations, an
httpx client per station with one call in flight each), so the ratio shows what the HTTP
layer (FastAPI, validation of the body, JSON both ways, auth) costs on top of the OCPP round
trip through the node. Reported, no target.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from benchmarks.report import Row
from ocppnet.api import TokenTable, hash_token, serve_api
from ocppnet.csms import CsmsApp, CsmsConfig
from ocppnet.csms.api import csms_api
from ocppnet.node.config import parse_config
from ocppnet.node.service import Node
from ocppnet.transport import connect_station
from ocppnet.transport.handlers import CallContext, Handlers

TOKEN = "bench-token"


def station_handlers() -> Handlers:
    handlers = Handlers()

    @handlers.on("Reset")
    async def reset(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        return {"status": "Accepted"}

    return handlers


async def rate(workers: list[Callable[[], Awaitable[None]]], seconds: float,
               warmup: float) -> float:
    """Calls/s of ``workers`` running side by side (each one call at a time). Workers end
    after their current call (no cancellation: a cancelled HTTP request or OCPP call would
    leave its answer in flight into the next measurement)."""
    counts = [0] * len(workers)
    state = {"measuring": False, "stop": False}

    async def loop(index: int, call: Callable[[], Awaitable[None]]) -> None:
        while not state["stop"]:
            await call()
            if state["measuring"]:
                counts[index] += 1

    tasks = [asyncio.create_task(loop(i, w)) for i, w in enumerate(workers)]
    await asyncio.sleep(warmup)
    state["measuring"] = True
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    state["measuring"] = False
    elapsed = time.perf_counter() - started
    state["stop"] = True
    await asyncio.gather(*tasks)
    return sum(counts) / elapsed


async def measure(stations: int, seconds: float, warmup: float) -> tuple[float, float]:
    """(API calls/s, in-process calls/s)."""
    with tempfile.TemporaryDirectory(prefix="ocppnet-bench-api-") as tmp:
        async with contextlib.AsyncExitStack() as stack:
            app = CsmsApp(CsmsConfig(id="CSMS-1", port=0,
                                     store=str(Path(tmp) / "csms.sqlite3")))
            await app.start()
            stack.push_async_callback(app.stop)
            server = await app.serve()
            stack.push_async_callback(server.close)
            api = csms_api(app, auth=TokenTable([("bench", hash_token(TOKEN), ["operator"])]))
            http = await serve_api(api, "127.0.0.1", 0)
            stack.push_async_callback(http.close)
            node = Node(parse_config({"node": {"id": "NODE-A", "upstreams": [
                {"id": "CSMS-1", "url": f"ws://127.0.0.1:{server.port}/ocpp",
                 "mode": "overlay"}]}}))
            await node.start()
            stack.push_async_callback(node.stop)
            await asyncio.wait_for(node.upstreams["CSMS-1"].link_up.wait(), 10)
            ids = [f"CS-{i}" for i in range(stations)]
            for station_id in ids:
                conn = await stack.enter_async_context(connect_station(
                    f"ws://127.0.0.1:{node.port}/ocpp", station_id,
                    handlers=station_handlers(), backoff=None))
                await conn.call("Heartbeat", {})  # the CSMS learns the station's link
            client = await stack.enter_async_context(httpx.AsyncClient(
                base_url=http.url, headers={"Authorization": f"Bearer {TOKEN}"}))
            body = {"action": "Reset", "payload": {"type": "Immediate"}}

            def via_api(station_id: str) -> Callable[[], Awaitable[None]]:
                async def call() -> None:
                    answer = await client.post(f"/api/v1/stations/{station_id}/call",
                                               json=body)
                    if answer.status_code != 200:
                        raise RuntimeError(f"{station_id}: {answer.status_code} {answer.text}")
                return call

            def direct(station_id: str) -> Callable[[], Awaitable[None]]:
                async def call() -> None:
                    await app.call(station_id, "Reset", {"type": "Immediate"})
                return call

            api_rate = await rate([via_api(s) for s in ids], seconds, warmup)
            direct_rate = await rate([direct(s) for s in ids], seconds, warmup)
            return api_rate, direct_rate


def run(quick: bool) -> list[Row]:
    stations, seconds, warmup = (2, 0.3, 0.1) if quick else (8, 3.0, 1.0)
    api_rate, direct_rate = asyncio.run(measure(stations, seconds, warmup))
    return [Row("api", f"POST /call to stations behind a node ({stations} clients)", "calls/s",
                api_rate, direct_rate, "CsmsApp.call in-process, same path",
                note="HTTP + auth + validation on top of the OCPP round trip; no target")]
