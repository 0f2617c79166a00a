"""End to end on loopback: simulated stations (OCPP 2.0.1 and 1.6) over WebSocket to a real
CsmsApp with a SQLite store, the access-point routes on a real HTTP server; a connector fault
at a station is out of order in the next DATEX II status and OCPI answer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from lxml import etree

from ocppnet.csms import CsmsApp, CsmsConfig
from ocppnet.csms.nap_api import nap_router
from ocppnet.csms.nap_source import NapSource
from ocppnet.nap.datex2 import NS
from ocppnet.nap.sites import load_sites
from ocppnet.security.keys import generate
from ocppnet.station.clock import SimClock
from ocppnet.station.runtime import SimulatedStation
from ocppnet.station.scenario import Scenario
from ocppnet.station.states import Event
from ocppnet.web.api import serve_http
from tests.nap.conftest import EXAMPLE
from tests.station.conftest import FAST_BACKOFF


async def until(check: Callable[[], Awaitable[Any]]) -> Any:
    async with asyncio.timeout(15):  # guards against a hang only
        while not (result := await check()):  # noqa: ASYNC110 (polling an HTTP resource)
            await asyncio.sleep(0.05)
        return result


def _statuses(xml: bytes) -> dict[str, str]:
    root = etree.fromstring(xml)
    return {p.xpath("string(fac:reference/@id)", namespaces=NS):
            p.xpath("string(egi:status)", namespaces=NS)
            for p in root.xpath("//egi:refillPointStatus", namespaces=NS)}


async def test_a_fault_at_a_station_is_out_of_order_in_the_next_publication(
        tmp_path: Path) -> None:
    config = CsmsConfig(store=str(tmp_path / "csms.sqlite3"), port=0)
    async with CsmsApp(config) as app:
        ws = await app.serve()
        api = FastAPI()
        api.include_router(nap_router(NapSource(app.store, load_sites(EXAMPLE),
                                                generate("secp256r1"))), prefix="/api/v1")
        http = await serve_http(api, "127.0.0.1", 0)
        stations = [
            SimulatedStation(sid, f"ws://127.0.0.1:{ws.port}/ocpp", version=version,
                             scenario=Scenario(auto=False, heartbeat_s=600),
                             clock=SimClock(speed=10), backoff=FAST_BACKOFF)
            for sid, version in (("CS-A1", "2.0.1"), ("CS-B4", "1.6"))]
        tasks = [asyncio.create_task(s.run()) for s in stations]
        try:
            async with httpx.AsyncClient(base_url=http.url.rstrip("/")) as client:
                async def status() -> dict[str, str]:
                    answer = await client.get("/api/v1/nap/datex2/status")
                    assert answer.status_code == 200
                    return _statuses(answer.content)

                await until(lambda: _all(status, {"MARKT-A1-1": "available",
                                                  "SEE-B4-1": "available"}))
                for station in stations:
                    station.apply(station.model.set_status(1, 1, Event.FAULT,
                                                           station.clock.now()))
                got = await until(lambda: _all(status, {"MARKT-A1-1": "outOfOrder",
                                                        "SEE-B4-1": "outOfOrder"}))
                assert got["MARKT-D1-1"] == "unknown"  # CS-D1 never connected
                ocpi = (await client.get("/api/v1/nap/ocpi/locations")).json()["data"]
                evses = {e["uid"]: e["status"] for loc in ocpi for e in loc["evses"]}
                assert evses["MARKT-A1-1"] == "OUTOFORDER" and evses["SEE-B4-1"] == "OUTOFORDER"
        finally:
            for station in stations:
                await station.close()
            await asyncio.gather(*tasks)
            await http.close()
            await ws.close()


async def _all(read: Callable[[], Awaitable[dict[str, str]]],
               wanted: dict[str, str]) -> dict[str, str] | None:
    got = await read()
    return got if all(got.get(k) == v for k, v in wanted.items()) else None
