"""A WebSocket after a successful OCPP handshake: what was agreed, and raw send/receive.

:class:`Link` is the lower level that the node/CSMS overlay code builds on; :class:`DirectSender`
and :func:`pump` connect one Link to one :class:`~ocppnet.transport.connection.Connection`
(standard mode, or an overlay link that carries a single peer).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.connection import Connection as WebSocket
from websockets.exceptions import ConnectionClosed as WsConnectionClosed
from websockets.exceptions import ConnectionClosedOK as WsConnectionClosedOK
from websockets.protocol import State

from ocppnet.errors import ConnectionClosed
from ocppnet.rpc.codec import DecodeFailure, decode, encode
from ocppnet.rpc.frames import Frame
from ocppnet.transport.connection import Connection
from ocppnet.transport.undecodable import answer_undecodable

log = logging.getLogger("ocppnet.transport.link")


@dataclass(frozen=True, slots=True)
class LinkDetails:
    """What the opening handshake established.

    ``station_id`` is the id from the URL (on a client: the id we connected as);
    ``overlay`` is True when the server echoed ``X-OCPP-NetworkingMode: OverlayNetwork``;
    ``peer_cert`` is ``getpeercert()`` of the other side when TLS verified one.
    """

    station_id: str
    subprotocol: str
    version: str
    overlay: bool
    security_profile: int
    path: str = "/"
    remote_address: Any = None
    peer_cert: Mapping[str, Any] | None = field(default=None, repr=False)


class Link:
    """One open WebSocket plus its :class:`LinkDetails`; iterate it for incoming messages."""

    __slots__ = ("info", "send_buffer_limit", "websocket")

    def __init__(
        self, websocket: WebSocket, info: LinkDetails, *, send_buffer_limit: int | None = None
    ) -> None:
        self.websocket = websocket
        self.info = info
        self.send_buffer_limit = send_buffer_limit
        """None: a write waits while the peer reads slower than we write (flow control);
        a number: writes never wait, and the link is closed once that many bytes wait."""

    async def send_text(self, data: bytes | str) -> None:
        """Send one text message (already-encoded UTF-8 JSON); ConnectionClosed if gone.

        On an open, idle connection the frame goes straight through the library's sans-I/O
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
        log.warning(
            "event=send_buffer_exceeded station=%s waiting_bytes=%d limit=%d "
            "reason='the peer does not read what it is sent'",
            self.info.station_id, waiting, self.send_buffer_limit,
        )
        self.websocket.transport.abort()
        raise ConnectionClosed(f"link to {self.info.station_id} closed: {waiting} bytes waited "
                               f"to be sent (limit {self.send_buffer_limit})")

    async def send_binary(self, data: bytes) -> None:
        try:
            await self.websocket.send(data, text=False)
        except WsConnectionClosed as exc:
            raise ConnectionClosed(f"link to {self.info.station_id} closed: {exc}") from None

    def __aiter__(self) -> AsyncIterator[str | bytes]:
        """Text messages as str, binary messages as bytes, until the link closes."""
        return _Messages(self)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.websocket.close(code, reason)

    @property
    def close_code(self) -> int | None:
        return self.websocket.close_code


class _Messages:
    """A Link's incoming messages: ``websocket.recv()`` per message, one level of iteration
    instead of two nested async generators; a lost link is logged and ends the iteration."""

    __slots__ = ("link",)

    def __init__(self, link: Link) -> None:
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


class DirectSender:
    """FrameSender for a Connection that is alone on its link: encode and send as text."""

    __slots__ = ("link",)

    def __init__(self, link: Link) -> None:
        self.link = link

    async def send_frame(self, frame: Frame) -> None:
        await self.link.send_text(encode(frame))


BinaryHandler = Callable[[bytes], Awaitable[None]]


async def pump(
    link: Link, connection: Connection, *, on_binary: BinaryHandler | None = None
) -> None:
    """Read ``link`` until it closes, decoding each text message into ``connection``.

    A malformed message gets the codec's CALLERROR when it carries a recoverable message id,
    otherwise it is logged and dropped. Binary messages go to ``on_binary`` (or are dropped).
    """
    overlay = link.info.overlay
    sender = DirectSender(link)
    async for message in link:
        if isinstance(message, bytes):
            if on_binary is not None:
                await on_binary(message)
            else:
                log.warning(
                    "event=binary_dropped station=%s size=%d", link.info.station_id, len(message)
                )
            continue
        result = decode(message, overlay=overlay, version=connection.version)
        if isinstance(result, DecodeFailure):
            connection.handle_decode_failure(result)
            if not await answer_undecodable(
                result, sender.send_frame, sender=None, log=log, station=link.info.station_id
            ):
                return
            continue
        await connection.handle_frame(result)
        del message, result  # an idle link must not keep its last message alive (~2.5 KiB)
