"""OUR station Connection talks to a CSMS written with the `ocpp` package over websockets.serve."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call_result as result16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from websockets.asyncio.server import ServerConnection
from websockets.asyncio.server import serve as ws_serve

from ocppnet.transport import CallContext, Handlers, connect_station
from tests.transport.helpers import boot_heartbeat_authorize

NOW = "2025-01-01T00:00:00Z"


class Csms201(ChargePoint201):
    """The `ocpp` package's idea of a 2.0.1 CSMS (handlers receive snake_case kwargs)."""

    @on("BootNotification")
    async def on_boot(self, charging_station: dict[str, Any], reason: str, **kw: Any) -> Any:
        assert charging_station["vendor_name"] == "ocppnet" and reason == "PowerUp"
        return result201.BootNotification(current_time=NOW, interval=300, status="Accepted")

    @on("Heartbeat")
    async def on_heartbeat(self, **kw: Any) -> Any:
        return result201.Heartbeat(current_time=NOW)

    @on("Authorize")
    async def on_authorize(self, id_token: dict[str, Any], **kw: Any) -> Any:
        assert id_token == {"id_token": "04A1B2C3", "type": "ISO14443"}
        return result201.Authorize(id_token_info={"status": "Accepted"})


class Csms16(ChargePoint16):
    @on("BootNotification")
    async def on_boot(self, charge_point_vendor: str, charge_point_model: str, **kw: Any) -> Any:
        assert charge_point_vendor == "ocppnet"
        return result16.BootNotification(current_time=NOW, interval=300, status="Accepted")

    @on("Heartbeat")
    async def on_heartbeat(self, **kw: Any) -> Any:
        return result16.Heartbeat(current_time=NOW)

    @on("Authorize")
    async def on_authorize(self, id_tag: str, **kw: Any) -> Any:
        return result16.Authorize(id_tag_info={"status": "Accepted"})


@pytest.mark.parametrize(("cls", "subprotocol"), [(Csms201, "ocpp2.0.1"), (Csms16, "ocpp1.6")])
async def test_our_station_completes_boot_heartbeat_authorize(
    cls: type[Any], subprotocol: str
) -> None:
    sessions: list[Any] = []

    async def on_connect(websocket: ServerConnection) -> None:
        assert websocket.request is not None
        station_id = websocket.request.path.rsplit("/", 1)[-1]
        csms = cls(station_id, websocket)
        sessions.append(csms)
        try:
            await csms.start()
        except Exception:  # the `ocpp` reader ends with websockets' ConnectionClosed
            return

    server = await ws_serve(on_connect, "127.0.0.1", 0, subprotocols=[subprotocol])  # type: ignore[list-item]
    port = server.sockets[0].getsockname()[1]
    try:
        async with connect_station(
            f"ws://127.0.0.1:{port}/ocpp", "CP1", subprotocols=[subprotocol], backoff=None
        ) as conn:
            assert conn.version == subprotocol.removeprefix("ocpp")
            await boot_heartbeat_authorize(conn)
    finally:
        server.close()
        await server.wait_closed()
    assert [s.id for s in sessions] == ["CP1"]


async def test_ocpp_csms_calls_our_station() -> None:
    """The `ocpp` CSMS sends GetVariables; our station's handler answers it."""
    answered: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    handlers = Handlers()

    @handlers.on("GetVariables")
    async def get_variables(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        (item,) = payload["getVariableData"]
        return {"getVariableResult": [{
            "attributeStatus": "Accepted", "attributeValue": "60",
            "component": item["component"], "variable": item["variable"],
        }]}

    async def on_connect(websocket: ServerConnection) -> None:
        csms = Csms201("CP1", websocket)
        reader = asyncio.create_task(csms.start())
        try:
            result = await csms.call(call201.GetVariables(get_variable_data=[{
                "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
            }]), suppress=False)
            answered.set_result(result)
            await websocket.wait_closed()
        finally:
            reader.cancel()

    server = await ws_serve(on_connect, "127.0.0.1", 0, subprotocols=["ocpp2.0.1"])  # type: ignore[list-item]
    port = server.sockets[0].getsockname()[1]
    try:
        async with connect_station(
            f"ws://127.0.0.1:{port}", "CP1", handlers=handlers, subprotocols=["ocpp2.0.1"],
            backoff=None,
        ):
            result = await answered
    finally:
        server.close()
        await server.wait_closed()
    (item,) = result.get_variable_result
    assert item["attribute_value"] == "60" and item["attribute_status"] == "Accepted"
