"""A minimal callback-driven WebSocket client for load generation (RFC 6455, client side).

The ``websockets`` client costs about as much CPU per call as a fast server, so a generator
built on it measures itself. This one does the upgrade handshake by hand, sends frames that
were masked once at build time, and parses only the server's unmasked frame headers; the next
request goes out from ``data_received`` without any coroutine. Pings are answered with pongs.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections.abc import Callable, Sequence
from typing import cast
from urllib.parse import urlsplit

OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x2, 0x8, 0x9, 0xA


def client_frame(payload: bytes, opcode: int = OP_TEXT) -> bytes:
    """One final, masked client frame carrying ``payload``."""
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = bytes([0x80 | opcode, 0x80 | n])
    elif n < 65536:
        head = bytes([0x80 | opcode, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + n.to_bytes(8, "big")
    key = (mask * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")
    return head + mask + masked


class Window:
    """Shared measurement state: while ``measuring``, replies are counted and timed."""

    __slots__ = ("calls", "errors", "latencies", "measuring", "stopped")

    def __init__(self) -> None:
        self.measuring = False
        self.stopped = False
        self.calls = 0
        self.errors = 0
        self.latencies: list[float] = []


class Station(asyncio.Protocol):
    """One station connection; after ``opened`` it sends ``frames`` in a ring, one in flight."""

    def __init__(
        self, request: bytes, frames: Sequence[bytes], window: Window,
        on_reply: Callable[[bytes], None] | None = None,
    ) -> None:
        self.request = request
        self.frames = frames
        self.window = window
        self.on_reply = on_reply
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.handshake_done = False
        self.n = 0
        self.sent_at = 0.0
        self.busy = False

    # --- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass
        self.transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        for fut in (self.opened, self.closed):
            if not fut.done():
                fut.set_exception(ConnectionError(f"connection lost: {exc}"))
        self.busy = False

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.handshake_done:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end])
            del self.buffer[: end + 4]
            if not head.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(ConnectionError(head.split(b"\r\n", 1)[0].decode()))
                return
            self.handshake_done = True
            self.opened.set_result(None)
        self._frames()

    # --- frames -------------------------------------------------------------------------

    def _frames(self) -> None:
        buf = self.buffer
        while len(buf) >= 2:
            opcode, n = buf[0] & 0x0F, buf[1] & 0x7F
            start = 2
            if n == 126:
                if len(buf) < 4:
                    return
                n, start = int.from_bytes(buf[2:4], "big"), 4
            elif n == 127:
                if len(buf) < 10:
                    return
                n, start = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < start + n:
                return
            payload = bytes(buf[start : start + n])
            del buf[: start + n]
            if opcode in (OP_TEXT, OP_BINARY):
                self._reply(payload)
            elif opcode == OP_PING and self.transport is not None:
                self.transport.write(client_frame(payload, OP_PONG))
            elif opcode == OP_CLOSE and self.transport is not None:
                self.transport.close()

    def _reply(self, payload: bytes) -> None:
        now = time.perf_counter()
        window = self.window
        self.busy = False
        if window.measuring:
            window.calls += 1
            window.latencies.append(now - self.sent_at)
            if not payload.startswith(b"[3"):
                window.errors += 1
        if self.on_reply is not None:
            self.on_reply(payload)
        if window.stopped:
            if not self.closed.done():
                self.closed.set_result(None)
            return
        if self.frames:
            self.send_next()

    def send_next(self) -> None:
        assert self.transport is not None
        frame = self.frames[self.n % len(self.frames)]
        self.n += 1
        self.busy = True
        self.sent_at = time.perf_counter()
        self.transport.write(frame)


def upgrade_request(url: str, station_id: str, subprotocol: str) -> tuple[str, int, bytes]:
    """(host, port, HTTP upgrade request) for ``<url>/<station_id>``."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    key = base64.b64encode(os.urandom(16)).decode()
    path = f"{parts.path.rstrip('/')}/{station_id}"
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: {subprotocol}\r\n\r\n"
    ).encode()
    return host, port, request


async def open_station(
    url: str, station_id: str, subprotocol: str, frames: Sequence[bytes], window: Window,
    *, local_host: str | None = None,
) -> Station:
    """Connect one station and complete the upgrade handshake."""
    host, port, request = upgrade_request(url, station_id, subprotocol)
    loop = asyncio.get_running_loop()
    local = (local_host, 0) if local_host else None
    _, station = await loop.create_connection(
        lambda: Station(request, frames, window), host, port, local_addr=local
    )
    await station.opened
    return station
