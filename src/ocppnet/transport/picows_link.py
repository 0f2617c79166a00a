"""The picows driver's :class:`~ocppnet.transport.link.Link`: a picows listener that is the link.

picows calls :meth:`PicowsLink.on_ws_frame` for every frame, inside the protocol's
``buffer_updated``; the link turns frames into messages (reassembling fragments, inflating
permessage-deflate, checking UTF-8 and ``max_size``) and queues them for ``async for``. One
object per link: no reader task, no stream reader, a small read buffer (``read_buffer_size``).
Writes go through picows (one ``send()`` per message) or, on overlay links, through
:class:`PicowsCoalescingSender` (all frames of a loop turn in one write).

Flow control: picows forwards the transport's ``pause_writing``/``resume_writing``; a write
that finds the link paused waits (``send_buffer_limit`` None) or cuts the link once more than
``send_buffer_limit`` bytes wait (see :meth:`Link.buffer_exceeded`). Reading: past 64 queued
messages the transport stops reading until the consumer is down to 16.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar

from picows import WSCloseCode, WSFrame, WSListener, WSMsgType, WSTransport

from ocppnet.errors import ConnectionClosed
from ocppnet.transport.deflate import Deflate, DeflateError
from ocppnet.transport.link import Link, LinkDetails, TextSender
from ocppnet.transport.wsframe import OP_TEXT, frame, mask_key

log = logging.getLogger("ocppnet.transport.link")

_TEXT = WSMsgType.TEXT
_BINARY = WSMsgType.BINARY
_CONTINUATION = WSMsgType.CONTINUATION
_CLOSE = WSMsgType.CLOSE
_QUEUE_HIGH = 64
_QUEUE_LOW = 16
_CLEAN_CODES = (1000, 1001)


def _close_reason(reason: str) -> bytes:
    """A close frame carries at most 123 bytes of reason (RFC 6455 5.5: 125 with the code)."""
    data = reason.encode()
    return data if len(data) <= 123 else data[:123].decode(errors="ignore").encode()


class PicowsLink(WSListener, Link):
    """A :class:`Link` on one picows connection; picows calls it, ``async for`` reads it."""

    __slots__ = (
        "_closed_waiter", "_closing", "_coalescer", "_deflate", "_drain", "_fragment_deflated",
        "_fragment_text", "_fragments", "_max_size", "_on_open", "_paused", "_queue",
        "_reading_paused", "_waiter", "close_timeout", "info", "send_buffer_limit", "transport",
    )

    driver: ClassVar[str] = "picows"

    def __init__(
        self,
        info: LinkDetails,
        *,
        send_buffer_limit: int | None = None,
        max_size: int | None = None,
        close_timeout: float | None = 5.0,
        deflate: Deflate | None = None,
        on_open: Any = None,
    ) -> None:
        super().__init__()
        self.info = info
        self.send_buffer_limit = send_buffer_limit
        self.close_timeout = close_timeout
        self.transport: WSTransport | None = None
        self._max_size = max_size
        self._deflate = deflate
        self._on_open = on_open
        self._queue: list[str | bytes] = []
        self._waiter: asyncio.Future[None] | None = None
        self._drain: asyncio.Future[None] | None = None
        self._closed_waiter: asyncio.Future[None] | None = None
        self._paused = False
        self._reading_paused = False
        self._closing = False
        self._fragments: bytearray | None = None
        self._fragment_text = False
        self._fragment_deflated = False
        self._coalescer: PicowsCoalescingSender | None = None

    # --- picows callbacks -----------------------------------------------------------------

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport
        on_open, self._on_open = self._on_open, None
        if on_open is not None:
            on_open(self)
        # what the handshake said is in self.info now: the parsed headers (~2.5 KiB, 30
        # objects per link) would otherwise stay for the link's lifetime
        if transport.request is not None:
            transport.request.headers.clear()
        if transport.response is not None:
            transport.response.headers.clear()

    def on_ws_frame(self, transport: WSTransport, ws_frame: WSFrame) -> None:
        op = ws_frame.msg_type
        if op is _TEXT or op is _BINARY:
            if self._fragments is not None:
                self._fail(1002, "a new message inside a fragmented one")
            elif ws_frame.rsv2 or ws_frame.rsv3 or (ws_frame.rsv1 and self._deflate is None):
                self._fail(1002, "reserved bit set without a negotiated extension")
            elif ws_frame.fin and not ws_frame.rsv1:
                if op is _TEXT:
                    try:
                        self._deliver(ws_frame.get_payload_as_utf8_text())
                    except UnicodeDecodeError:
                        self._fail(1007, "invalid UTF-8 in a text message")
                else:
                    self._deliver(ws_frame.get_payload_as_bytes())
            else:
                self._fragments = bytearray(ws_frame.get_payload_as_memoryview())
                self._fragment_text = op is _TEXT
                self._fragment_deflated = bool(ws_frame.rsv1)
                if ws_frame.fin:
                    self._finish_message()
        elif op is _CONTINUATION:
            fragments = self._fragments
            if fragments is None:
                self._fail(1002, "a continuation frame outside a message")
                return
            fragments += ws_frame.get_payload_as_memoryview()
            if self._max_size is not None and len(fragments) > self._max_size:
                self._fail(1009, f"message larger than {self._max_size} bytes")
            elif ws_frame.fin:
                self._finish_message()
        elif op is _CLOSE:
            self._echo_close(transport, ws_frame)
        # PING: picows answers (auto-pong); PONG: consumed by picows' keep-alive

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self._wake_reader()
        drain, self._drain = self._drain, None
        if drain is not None and not drain.done():
            drain.set_result(None)
        closed = self._closed_waiter
        if closed is not None and not closed.done():
            closed.set_result(None)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        drain, self._drain = self._drain, None
        if drain is not None and not drain.done():
            drain.set_result(None)

    # --- receiving ------------------------------------------------------------------------

    def _finish_message(self) -> None:
        data = bytes(self._fragments or b"")
        self._fragments = None
        if self._fragment_deflated:
            assert self._deflate is not None  # checked on the message's first frame
            try:
                data = self._deflate.decode(data, self._max_size)
            except DeflateError as exc:
                self._fail(1009 if exc.too_big else 1007, str(exc))
                return
        if not self._fragment_text:
            self._deliver(data)
            return
        try:
            self._deliver(data.decode())
        except UnicodeDecodeError:
            self._fail(1007, "invalid UTF-8 in a text message")

    def _deliver(self, message: str | bytes) -> None:
        queue = self._queue
        queue.append(message)
        self._wake_reader()
        if len(queue) >= _QUEUE_HIGH and not self._reading_paused and self.transport is not None:
            self._reading_paused = True
            self.transport.underlying_transport.pause_reading()

    def _wake_reader(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def __aiter__(self) -> PicowsLink:
        return self

    async def __anext__(self) -> str | bytes:
        queue = self._queue
        while not queue:
            transport = self.transport
            if transport is None or transport.is_disconnected:
                self._log_end()
                raise StopAsyncIteration
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            await waiter
        message = queue.pop(0)
        if self._reading_paused and len(queue) <= _QUEUE_LOW and self.transport is not None:
            self._reading_paused = False
            if not self.transport.is_disconnected:
                self.transport.underlying_transport.resume_reading()
        return message

    def _log_end(self) -> None:
        code = self.close_code
        if code not in _CLEAN_CODES:
            handshake = self.transport.close_handshake if self.transport is not None else None
            reason = handshake.recv.reason if handshake is not None and handshake.recv else ""
            log.info("event=link_lost station=%s code=%s reason=%r",
                     self.info.station_id, code, reason)

    def _fail(self, code: int, reason: str) -> None:
        """The peer broke the protocol: close with ``code`` and drop the connection."""
        log.warning("event=link_protocol_error station=%s code=%d reason=%r",
                    self.info.station_id, code, reason)
        self._fragments = None
        transport = self.transport
        if transport is None:
            return
        self._flush_pending()
        if not transport.is_close_frame_sent and not self._closing:
            transport.send_close(WSCloseCode(code), _close_reason(reason))
        self._closing = True
        transport.disconnect()

    def _echo_close(self, transport: WSTransport, ws_frame: WSFrame) -> None:
        """RFC 6455 5.5.1: answer the peer's close frame with the same code, then close TCP."""
        if not transport.is_close_frame_sent and not self._closing:
            self._flush_pending()
            if ws_frame.payload_size == 0:
                transport.send(_CLOSE, b"")  # the peer gave no code (1005): echo none either
            else:
                transport.send_close(ws_frame.get_close_code(), ws_frame.get_close_message())
        self._closing = True
        transport.disconnect()

    # --- sending --------------------------------------------------------------------------

    def _check_open(self) -> WSTransport:
        transport = self.transport
        if (transport is None or self._closing or transport.is_close_frame_sent
                or transport.is_disconnected):
            raise ConnectionClosed(f"link to {self.info.station_id} closed")
        return transport

    def _flush_pending(self) -> None:
        coalescer = self._coalescer
        if coalescer is not None and coalescer.chunks:
            coalescer.flush()

    async def send_text(self, data: bytes | str) -> None:
        transport = self._check_open()
        if self._coalescer is not None and self._coalescer.chunks:
            self._coalescer.flush()  # what the coalescer holds was sent first
        deflate = self._deflate
        if deflate is None:
            transport.send(_TEXT, data)
        else:
            transport.send(_TEXT, deflate.encode(data.encode() if isinstance(data, str) else data),
                           True, True)
        if self._paused:
            await self._slow_peer()

    async def send_binary(self, data: bytes) -> None:
        transport = self._check_open()
        self._flush_pending()
        if self._deflate is None:
            transport.send(_BINARY, data)
        else:
            transport.send(_BINARY, self._deflate.encode(data), True, True)
        if self._paused:
            await self._slow_peer()

    async def _slow_peer(self) -> None:
        """Flow control: wait (client links), or go on unless too much waits (server links)."""
        if self.send_buffer_limit is None:
            await self.wait_writable()
            return
        transport = self.transport
        assert transport is not None
        waiting = transport.underlying_transport.get_write_buffer_size()
        if waiting <= self.send_buffer_limit:
            return
        exc = self.buffer_exceeded(waiting)
        self._closing = True
        transport.disconnect(False)
        raise exc

    async def wait_writable(self) -> None:
        """Until the transport takes more data; ConnectionClosed if the link goes first."""
        while self._paused:
            transport = self._check_open()
            drain = self._drain
            if drain is None:
                drain = self._drain = asyncio.get_running_loop().create_future()
            await asyncio.shield(drain)
            if transport.is_disconnected:
                break
        self._check_open()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        transport = self.transport
        if transport is None or transport.is_disconnected:
            return
        if not transport.is_close_frame_sent and not self._closing:
            self._flush_pending()
            transport.send_close(WSCloseCode(code), _close_reason(reason))
        self._closing = True
        closed = self._closed_waiter
        if closed is None:
            closed = self._closed_waiter = asyncio.get_running_loop().create_future()
        if transport.is_disconnected:
            return
        try:
            await asyncio.wait_for(asyncio.shield(closed), self.close_timeout)
        except TimeoutError:
            log.info("event=close_timeout station=%s seconds=%s",
                     self.info.station_id, self.close_timeout)
            transport.disconnect(False)
            await asyncio.shield(closed)

    @property
    def close_code(self) -> int | None:
        transport = self.transport
        if transport is None or not transport.is_disconnected:
            return None
        handshake = transport.close_handshake
        if handshake is not None and handshake.recv is not None:
            return int(handshake.recv.code.value) or 1005
        return 1006

    def coalescing_sender(self, name: str) -> TextSender:
        if self._coalescer is None:
            self._coalescer = PicowsCoalescingSender(self, name)
        return self._coalescer


class PicowsCoalescingSender:
    """``await send_text(data)`` for one picows link; the frames of a loop turn leave in one
    write (picows itself writes each frame with its own syscall)."""

    __slots__ = ("_loop", "_masked", "chunks", "link", "name")

    def __init__(self, link: PicowsLink, name: str) -> None:
        self.link = link
        self.name = name
        self.chunks: list[bytes] = []
        self._loop = asyncio.get_running_loop()
        self._masked = link.transport is not None and link.transport.is_client_side

    async def send_text(self, data: bytes | str) -> None:
        link = self.link
        try:
            link._check_open()
        except ConnectionClosed:
            raise ConnectionClosed(f"link to {self.name} closed") from None
        payload = data.encode() if isinstance(data, str) else data
        deflate = link._deflate
        if deflate is not None:
            payload = deflate.encode(payload)
        chunks = self.chunks
        if not chunks:
            self._loop.call_soon(self.flush)
        chunks.append(frame(OP_TEXT, payload, rsv1=deflate is not None,
                            key=mask_key() if self._masked else None))
        if link._paused:  # the peer reads slower than we write: wait like send() would
            self.flush()
            await link.wait_writable()

    def flush(self) -> None:
        chunks = self.chunks
        if not chunks:
            return
        data = b"".join(chunks) if len(chunks) > 1 else chunks[0]
        chunks.clear()
        transport = self.link.transport
        if transport is None or transport.is_disconnected or transport.is_close_frame_sent:
            log.info("event=coalesced_write_dropped link=%s bytes=%d reason='link closed'",
                     self.name, len(data))
            return
        try:
            transport.underlying_transport.write(data)
        except Exception as exc:  # the socket died under us: picows reports the disconnect
            log.info("event=coalesced_write_failed link=%s error=%r", self.name, exc)
            transport.disconnect(False)
