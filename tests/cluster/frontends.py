"""In-process front-ends for the scale-out tests: a real CsmsApp on the shared PostgreSQL
store, joined to the real nats-server, serving stations on 127.0.0.1 and its operator API
(with the cluster routes) over HTTP, and stations that answer the CSMS's calls."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from ocppnet.api import TokenTable, hash_token, serve_api
from ocppnet.cluster import ClusterSection, Frontend, cluster_router
from ocppnet.csms import CsmsApp, CsmsConfig
from ocppnet.csms.api import csms_api
from ocppnet.csms.metrics import csms_metrics
from ocppnet.errors import NotSupported
from ocppnet.transport.client import StationClient
from ocppnet.transport.connection import Connection
from ocppnet.transport.handlers import CallContext, Handlers

TOKENS = TokenTable([("ops", hash_token("op"), ["operator"]),
                     ("viewer", hash_token("ro"), ["read", "metrics"])])
OP = {"Authorization": "Bearer op"}
RO = {"Authorization": "Bearer ro"}
BOOT = {"reason": "PowerUp", "chargingStation": {"vendorName": "ACME", "model": "Loop"}}


@dataclass
class Fe:
    app: CsmsApp
    frontend: Frontend
    ws_port: int
    http: httpx.AsyncClient

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}"


@contextlib.asynccontextmanager
async def frontend(bus: str, store: str, frontend_id: str, **cluster: Any) -> AsyncIterator[Fe]:
    app = CsmsApp(CsmsConfig(id="CSMS", store=store, port=0))
    section = ClusterSection(bus=bus, frontend_id=frontend_id, **cluster)
    async with contextlib.AsyncExitStack() as stack:
        await app.start()
        stack.push_async_callback(app.stop)
        fe = Frontend(app, section)
        await fe.start()
        stack.push_async_callback(fe.stop)
        server = await app.serve()
        stack.push_async_callback(server.close)
        api = csms_api(app, auth=TOKENS, registry=csms_metrics(app, registry=fe.metrics.registry),
                       extra_routers=[cluster_router(fe)])
        web = await serve_api(api, "127.0.0.1", 0)
        stack.push_async_callback(web.close)
        http = await stack.enter_async_context(httpx.AsyncClient(base_url=web.url,
                                                                 timeout=30))
        yield Fe(app, fe, server.port, http)


@dataclass
class Station:
    """What a test station was asked, and a way to hold a call until the test says so."""

    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    asked: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def handlers(self) -> Handlers:
        handlers = Handlers()

        async def accept(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
            self.received.append((ctx.action, payload))
            return {"status": "Accepted"}

        async def refuse(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
            raise NotSupported("this station has no lock")

        async def hold(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
            self.asked.set()
            await self.release.wait()
            return {"status": "Accepted"}

        handlers.add("Reset", accept)
        handlers.add("UnlockConnector", refuse)
        handlers.add("TriggerMessage", hold)
        return handlers


@contextlib.asynccontextmanager
async def station(url: str, station_id: str, behaviour: Station | None = None
                  ) -> AsyncIterator[Connection]:
    behaviour = behaviour or Station()
    client = StationClient(f"{url}", station_id, handlers=behaviour.handlers(),
                           subprotocols=("ocpp2.0.1",), backoff=None)
    async with client as conn:
        await conn.call("BootNotification", BOOT)
        yield conn


async def held_by(fe: Fe, station_id: str, frontend_id: str | None) -> None:
    """Wait until ``fe`` sees the station on ``frontend_id`` (None: nowhere); the writes are
    asynchronous, so the tests wait for them instead of sleeping."""
    assert fe.frontend.directory is not None
    for _ in range(500):
        entry, live = await fe.frontend.directory.where(station_id)
        where = entry.frontend_id if entry is not None and live else None
        if where == frontend_id:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{station_id} is on {where}, expected {frontend_id}")
