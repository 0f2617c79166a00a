"""The baseline CSMS: what a user of the `ocpp` package (mobilityhouse) writes.

``ocpp.v201.ChargePoint`` with ``@on`` handlers, one instance per station, over
``websockets.serve`` — the package's documented server pattern. It validates every message
with ``jsonschema`` (the package default), as ours validates with compiled schemas.
"""

from __future__ import annotations

from typing import Any

from ocpp.routing import on
from ocpp.v201 import ChargePoint, call_result
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from benchmarks.frames import NOW, SUBPROTOCOL


class BenchCsms(ChargePoint):  # type: ignore[misc]
    @on("Heartbeat")
    async def on_heartbeat(self, **kw: Any) -> Any:
        return call_result.Heartbeat(current_time=NOW)

    @on("MeterValues")
    async def on_meter_values(self, evse_id: int, meter_value: list[Any], **kw: Any) -> Any:
        return call_result.MeterValues()


async def serve_ocpp(host: str, port: int) -> Server:
    """Start the baseline CSMS on ``host:port`` (0: any free port)."""

    async def on_connect(websocket: ServerConnection) -> None:
        assert websocket.request is not None
        station = BenchCsms(websocket.request.path.rsplit("/", 1)[-1], websocket)
        try:
            await station.start()
        except ConnectionClosed:
            return

    return await serve(on_connect, host, port, subprotocols=[Subprotocol(SUBPROTOCOL)])
