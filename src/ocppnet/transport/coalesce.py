"""Text frames for one busy WebSocket, written to the socket once per event-loop turn.

An overlay link carries the traffic of many stations: in one loop turn a node or a CSMS often
has several frames for the same link. ``websockets`` writes each message with its own
``transport.write`` (one syscall each), which the benchmarks showed to be the largest cost of
forwarding (docs/performance.md). This sender frames each message with the library's sans-I/O
protocol at once (order is kept, pings and closes go through the same buffer) and hands all
bytes of the turn to the transport in one write, with the library's own flow control.
"""

from __future__ import annotations

import asyncio
import logging

from websockets.asyncio.connection import Connection as WebSocket
from websockets.exceptions import InvalidState
from websockets.protocol import State

from ocppnet.errors import ConnectionClosed

log = logging.getLogger("ocppnet.transport.coalesce")


class CoalescingSender:
    """``await send_text(data)`` for one WebSocket; bytes leave at the end of the loop turn."""

    __slots__ = ("_loop", "_scheduled", "name", "websocket")

    def __init__(self, websocket: WebSocket, name: str = "") -> None:
        self.websocket = websocket
        self.name = name
        self._scheduled = False
        self._loop = asyncio.get_running_loop()

    async def send_text(self, data: bytes | str) -> None:
        websocket = self.websocket
        if websocket.protocol.state is not State.OPEN:
            raise ConnectionClosed(f"link to {self.name} closed")
        payload = data.encode() if isinstance(data, str) else data
        try:
            websocket.protocol.send_text(payload)
        except InvalidState:
            raise ConnectionClosed(f"link to {self.name} closed") from None
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._flush)
        if websocket.paused:  # the peer reads slower than we write: wait like send() would
            self._flush()
            await websocket.drain()

    def _flush(self) -> None:
        if not self._scheduled:
            return
        self._scheduled = False
        websocket = self.websocket
        chunks = websocket.protocol.data_to_send()
        if not chunks:
            return
        transport = websocket.transport
        data = b"".join(chunks)
        try:
            if data:
                transport.write(data)
            if not chunks[-1]:  # end of stream: the close handshake finished
                if transport.can_write_eof():
                    transport.write_eof()
                else:
                    transport.close()
        except Exception as exc:  # the socket died under us: let websockets close it
            log.info("event=coalesced_write_failed link=%s error=%r", self.name, exc)
            transport.abort()
