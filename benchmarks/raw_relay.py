"""A minimal raw WebSocket relay: the practical upper bound for any forwarding node.

Each station connection gets its own upstream WebSocket to ``<upstream>/<station id>`` with the
same subprotocol; text frames are copied both ways as bytes, never parsed or re-encoded. No
routing, no validation, no store-and-forward: what is left is the cost of websockets itself.
"""

from __future__ import annotations

import asyncio

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

SUBPROTOCOLS = [Subprotocol(s) for s in ("ocpp2.0.1", "ocpp2.1", "ocpp1.6")]


async def _copy(source: ServerConnection | ClientConnection,
                sink: ServerConnection | ClientConnection) -> None:
    try:
        while True:
            data = await source.recv(decode=False)
            await sink.send(data, text=True)
    except ConnectionClosed:
        pass
    finally:
        await sink.close()


async def serve_relay(host: str, port: int, upstream: str) -> Server:
    """Relay every station connecting to ``host:port`` to ``upstream`` (a ws:// URL prefix)."""

    async def on_connect(downstream: ServerConnection) -> None:
        assert downstream.request is not None
        station = downstream.request.path.rsplit("/", 1)[-1]
        subprotocols = [downstream.subprotocol] if downstream.subprotocol else None
        async with connect(
            f"{upstream}/{station}", subprotocols=subprotocols, ping_interval=None,
            compression=None,
        ) as up:
            await asyncio.gather(_copy(downstream, up), _copy(up, downstream))

    return await serve(on_connect, host, port, subprotocols=SUBPROTOCOLS, compression=None)
