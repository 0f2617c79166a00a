"""The websockets driver's :class:`~ocppnet.transport.link.Link`: one ``websockets`` connection.

Kept for what needs it (docs/transport.md, "Drivers"): ``OCPPNET_WS_DRIVER=websockets`` or
``LinkOptions(driver="websockets")``, and a server whose password check is asynchronous.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import ClassVar

from websockets.asyncio.connection import Connection as WebSocket
from websockets.exceptions import ConnectionClosed as WsConnectionClosed
from websockets.exceptions import ConnectionClosedOK as WsConnectionClosedOK
from websockets.protocol import State

from ocppnet.errors import ConnectionClosed
from ocppnet.transport.coalesce import CoalescingSender
from ocppnet.transport.link import Link, LinkDetails, TextSender

log = logging.getLogger("ocppnet.transport.link")


class WebsocketsLink(Link):
    """A :class:`Link` on a ``websockets`` asyncio connection."""

    __slots__ = ("info", "send_buffer_limit", "websocket")

    driver: ClassVar[str] = "websockets"

    def __init__(
        self, websocket: WebSocket, info: LinkDetails, *, send_buffer_limit: int | None = None
    ) -> None:
        self.websocket = websocket
        self.info = info
        self.send_buffer_limit = send_buffer_limit

    async def send_text(self, data: bytes | str) -> None:
        """On an open, idle connection the frame goes straight through the library's sans-I/O
        protocol to the transport (what ``websocket.send`` does, minus its async context
        manager: ~3 us per message); any other state takes ``websocket.send``.
        """
        websocket = self.websocket
        if (
            websocket.protocol.state is State.OPEN
            and websocket.send_in_progress is None
            and not websocket.transport.is_closing()
        ):
            websocket.protocol.send_text(data.encode() if isinstance(data, str) else data)
            try:
                websocket.send_data()
                if websocket.paused:  # the peer reads slower than we write
                    await self._slow_peer()
            except Exception as exc:  # the socket died under us, as websocket.send handles it
                websocket.set_connection_exc(exc)
                websocket.transport.abort()
                raise ConnectionClosed(f"link to {self.info.station_id} closed: {exc!r}") from None
            return
        try:
            await websocket.send(data, text=True)
        except WsConnectionClosed as exc:
            raise ConnectionClosed(f"link to {self.info.station_id} closed: {exc}") from None

    async def _slow_peer(self) -> None:
        """Flow control: wait (client links), or go on unless too much waits (server links)."""
        if self.send_buffer_limit is None:
            await self.websocket.drain()
            return
        waiting = self.websocket.transport.get_write_buffer_size()
        if waiting <= self.send_buffer_limit:
            return
        exc = self.buffer_exceeded(waiting)
        self.websocket.transport.abort()
        raise exc

    async def send_binary(self, data: bytes) -> None:
        try:
            await self.websocket.send(data, text=False)
        except WsConnectionClosed as exc:
            raise ConnectionClosed(f"link to {self.info.station_id} closed: {exc}") from None

    def __aiter__(self) -> AsyncIterator[str | bytes]:
        return _Messages(self)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.websocket.close(code, reason)

    @property
    def close_code(self) -> int | None:
        return self.websocket.close_code

    def coalescing_sender(self, name: str) -> TextSender:
        return CoalescingSender(self.websocket, name)


class _Messages:
    """A link's incoming messages: ``websocket.recv()`` per message, one level of iteration
    instead of two nested async generators; a lost link is logged and ends the iteration."""

    __slots__ = ("link",)

    def __init__(self, link: WebsocketsLink) -> None:
        self.link = link

    def __aiter__(self) -> _Messages:
        return self

    async def __anext__(self) -> str | bytes:
        try:
            return await self.link.websocket.recv()
        except WsConnectionClosedOK:
            raise StopAsyncIteration from None
        except WsConnectionClosed as exc:
            log.info(
                "event=link_lost station=%s code=%s reason=%r",
                self.link.info.station_id, exc.rcvd.code if exc.rcvd else None,
                exc.rcvd.reason if exc.rcvd else "",
            )
            raise StopAsyncIteration from None
