"""Stations written with the `ocpp` package (mobilityhouse) behind OUR networking node:
to our overlay-aware CSMS over one shared link, and to a CSMS written with the `ocpp` package
through the per-station fallback (it does not echo the networking-mode header)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.server import ServerConnection
from websockets.asyncio.server import serve as ws_serve
from websockets.typing import Subprotocol

from ocppnet.node.overlay_csms import serve_overlay_csms
from ocppnet.node.service import Node
from tests.interop.test_ocpp_station_to_our_csms import our_csms_handlers
from tests.node.helpers import node_config, running_node, upstream

NOW = "2025-01-01T00:00:00Z"


class Station201(ChargePoint201):
    resets: list[str]

    @on("Reset")
    async def on_reset(self, type: str, **kwargs: Any) -> Any:
        self.resets.append(type)
        return result201.Reset(status="Accepted")


class Station16(ChargePoint16):
    resets: list[str]

    @on("Reset")
    async def on_reset(self, type: str, **kwargs: Any) -> Any:
        self.resets.append(type)
        return result16.Reset(status="Accepted")


@contextlib.asynccontextmanager
async def ocpp_station(
    cls: type[Any], node: Node, subprotocol: str, station_id: str
) -> AsyncIterator[Any]:
    """An `ocpp` ChargePoint connected to the node, reading in a task."""
    async with ws_connect(
        f"ws://127.0.0.1:{node.port}/ocpp/{station_id}",
        subprotocols=[Subprotocol(subprotocol)], proxy=None,
    ) as websocket:
        assert websocket.subprotocol == subprotocol
        station = cls(station_id, websocket)
        station.resets = []
        reader = asyncio.create_task(station.start())
        try:
            yield station
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader


async def run_201(station: Any) -> None:
    boot = await station.call(
        call201.BootNotification(
            charging_station={"model": "Wallbox", "vendor_name": "mobilityhouse-ocpp"},
            reason="PowerUp",
        ),
        suppress=False,
    )
    assert boot.status == "Accepted"
    token = {"id_token": "04A1B2C3", "type": "ISO14443"}
    auth = await station.call(call201.Authorize(id_token=token), suppress=False)
    assert auth.id_token_info["status"] == "Accepted"
    await station.call(
        call201.TransactionEvent(
            event_type="Started", timestamp=NOW, trigger_reason="Authorized", seq_no=0,
            transaction_info={"transaction_id": "T-1"}, id_token=token,
            evse={"id": 1, "connector_id": 1},
        ),
        suppress=False,
    )


async def run_16(station: Any) -> None:
    boot = await station.call(
        call16.BootNotification(charge_point_vendor="mobilityhouse", charge_point_model="M"),
        suppress=False,
    )
    assert boot.status == "Accepted"
    start = await station.call(
        call16.StartTransaction(connector_id=1, id_tag="TAG", meter_start=0, timestamp=NOW),
        suppress=False,
    )
    assert start.transaction_id == 42
    stop = await station.call(
        call16.StopTransaction(meter_stop=900, timestamp=NOW, transaction_id=42),
        suppress=False,
    )
    assert stop.id_tag_info["status"] == "Accepted"


async def test_ocpp_stations_behind_our_node_reach_our_csms() -> None:
    """A 2.0.1 node upstream for the 2.0.1 station, a 1.6 one for the 1.6 station: one
    overlay link each, and the CSMS calls both stations back through the node."""
    log201: list[tuple[str, str, dict[str, Any]]] = []
    log16: list[tuple[str, str, dict[str, Any]]] = []
    csms201 = await serve_overlay_csms(our_csms_handlers(log201), node_id="CSMS-1")
    csms16 = await serve_overlay_csms(our_csms_handlers(log16), node_id="CSMS-1")
    try:
        async with running_node(
            node_config("NODE-A", [upstream("CSMS-1", csms201.port)])
        ) as node201, running_node(
            node_config("NODE-B", [upstream("CSMS-1", csms16.port, subprotocols=["ocpp1.6"])])
        ) as node16, ocpp_station(
            Station201, node201, "ocpp2.0.1", "CP-201"
        ) as station201, ocpp_station(Station16, node16, "ocpp1.6", "CP-16") as station16:
            await run_201(station201)
            await run_16(station16)
            assert await csms201.connections["CP-201"].call("Reset", {"type": "Immediate"}) == {
                "status": "Accepted"}
            assert await csms16.connections["CP-16"].call("Reset", {"type": "Hard"}) == {
                "status": "Accepted"}
            assert station201.resets == ["Immediate"] and station16.resets == ["Hard"]
            assert list(csms201.router.links) == ["NODE-A#1"]
            assert list(csms16.router.links) == ["NODE-B#1"]
    finally:
        await csms201.close()
        await csms16.close()
    assert [a for _, a, _ in log201] == ["BootNotification", "Authorize", "TransactionEvent"]
    assert [a for _, a, _ in log16] == ["BootNotification", "StartTransaction", "StopTransaction"]
    assert {v for v, _, _ in log16} == {"1.6"}


# --- a plain CSMS written with the `ocpp` package ------------------------------------------


class PlainCsms201(ChargePoint201):
    @on("BootNotification")
    async def on_boot(self, charging_station: dict[str, Any], reason: str, **kw: Any) -> Any:
        return result201.BootNotification(current_time=NOW, interval=300, status="Accepted")

    @on("Authorize")
    async def on_authorize(self, id_token: dict[str, Any], **kw: Any) -> Any:
        return result201.Authorize(id_token_info={"status": "Accepted"})

    @on("TransactionEvent")
    async def on_transaction_event(self, **kw: Any) -> Any:
        return result201.TransactionEvent()


class PlainCsms16(ChargePoint16):
    @on("BootNotification")
    async def on_boot(self, charge_point_vendor: str, charge_point_model: str, **kw: Any) -> Any:
        return result16.BootNotification(current_time=NOW, interval=300, status="Accepted")

    @on("StartTransaction")
    async def on_start(self, **kw: Any) -> Any:
        return result16.StartTransaction(transaction_id=42, id_tag_info={"status": "Accepted"})

    @on("StopTransaction")
    async def on_stop(self, **kw: Any) -> Any:
        return result16.StopTransaction(id_tag_info={"status": "Accepted"})


@contextlib.asynccontextmanager
async def plain_csms() -> AsyncIterator[tuple[int, dict[str, Any]]]:
    """An `ocpp`-package CSMS over websockets.serve: one ChargePoint object per socket."""
    sessions: dict[str, Any] = {}

    async def on_connect(websocket: ServerConnection) -> None:
        assert websocket.request is not None
        station_id = websocket.request.path.rsplit("/", 1)[-1]
        cls = PlainCsms16 if websocket.subprotocol == "ocpp1.6" else PlainCsms201
        session = cls(station_id, websocket)
        sessions[station_id] = session
        with contextlib.suppress(Exception):  # the reader ends with ConnectionClosed
            await session.start()

    server = await ws_serve(
        on_connect, "127.0.0.1", 0,
        subprotocols=[Subprotocol("ocpp2.0.1"), Subprotocol("ocpp1.6")],
    )
    try:
        yield server.sockets[0].getsockname()[1], sessions
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("mode", ["auto", "standard"])
@pytest.mark.parametrize(
    ("cls", "subprotocol", "run", "reset"),
    [
        (Station201, "ocpp2.0.1", run_201, call201.Reset(type="Immediate")),
        (Station16, "ocpp1.6", run_16, call16.Reset(type="Soft")),
    ],
)
async def test_ocpp_station_reaches_an_ocpp_csms_through_the_fallback(
    cls: type[Any], subprotocol: str, run: Any, reset: Any, mode: str
) -> None:
    async with plain_csms() as (port, sessions), running_node(
        node_config("NODE-A", [upstream("CSMS", port, mode=mode)])
    ) as node, ocpp_station(cls, node, subprotocol, "CP-1") as station:
        assert node.upstreams["CSMS"].state == "fallback"
        await run(station)
        # the CSMS sees the station itself; in "auto" also the node's short overlay probe
        assert list(sessions) == (["NODE-A", "CP-1"] if mode == "auto" else ["CP-1"])
        answer = await sessions["CP-1"].call(reset, suppress=False)
        assert answer.status == "Accepted"
        assert station.resets == [reset.type]
