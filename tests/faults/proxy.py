"""A fault-injecting TCP proxy for tests: put it between a station and a node, or a node and
its CSMS, and make the link misbehave the way real networks do.

    async with FaultProxy(target_port) as proxy:   # listens on 127.0.0.1:proxy.port
        proxy.blackhole()          # half-open: nothing passes, no FIN, no RST
        proxy.delay(0.2)           # every chunk waits 200 ms (both directions)
        proxy.throttle(10_000)     # bytes per second, per direction
        proxy.cut_inside(b'"TransactionEvent"')  # the next chunk holding it: half, then close
        proxy.reset()              # RST every connection now
        proxy.stop_reading("down") # stop reading what the server sends (a peer that stalls)
        proxy.heal()               # back to a clean pipe

Directions: ``up`` is client -> server, ``down`` server -> client. Loopback only.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from dataclasses import dataclass, field
from types import TracebackType


@dataclass(slots=True)
class _Pair:
    client: asyncio.StreamWriter
    server: asyncio.StreamWriter
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class FaultProxy:
    def __init__(self, target_port: int, *, target_host: str = "127.0.0.1",
                 recv_buffer: int | None = None) -> None:
        self.target = (target_host, target_port)
        self.recv_buffer = recv_buffer
        """SO_RCVBUF of the proxy's sockets (small: a stalled reader fills up sooner)."""
        self.server: asyncio.Server | None = None
        self.pairs: list[_Pair] = []
        self._delay = 0.0
        self._rate: float | None = None
        self._cut: bytes | None = None
        self._open = asyncio.Event()
        self._open.set()
        self._reading = {"up": asyncio.Event(), "down": asyncio.Event()}
        for event in self._reading.values():
            event.set()
        self.cuts = 0
        self.connections = 0

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def __aenter__(self) -> FaultProxy:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def __aexit__(self, et: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.heal()
        if self.server is not None:
            self.server.close()
        for pair in list(self.pairs):
            self._close(pair, rst=True)
        for pair in list(self.pairs):
            for task in pair.tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self.server is not None:
            with contextlib.suppress(Exception):
                await self.server.wait_closed()

    # --- faults -------------------------------------------------------------------------

    def heal(self) -> None:
        self._delay, self._rate, self._cut = 0.0, None, None
        self._open.set()
        for event in self._reading.values():
            event.set()

    def blackhole(self) -> None:
        """Nothing passes either way; the sockets stay open (no FIN, no RST): half-open."""
        self._open.clear()

    def delay(self, seconds: float) -> None:
        self._delay = seconds

    def throttle(self, bytes_per_second: float) -> None:
        self._rate = bytes_per_second

    def stop_reading(self, direction: str) -> None:
        """Stop reading one direction: the sender's buffers fill up (a peer that stalls)."""
        self._reading[direction].clear()

    def cut_inside(self, marker: bytes) -> None:
        """Close the connection in the middle of the next chunk that contains ``marker``."""
        self._cut = marker

    def reset(self) -> None:
        """RST every open connection now."""
        for pair in list(self.pairs):
            self._close(pair, rst=True)

    # --- plumbing -----------------------------------------------------------------------

    def _tune(self, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None and self.recv_buffer is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.recv_buffer)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._tune(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._tune(up_writer)
        pair = _Pair(writer, up_writer)
        self.pairs.append(pair)
        pair.tasks = [
            asyncio.ensure_future(self._pump(reader, up_writer, "up", pair)),
            asyncio.ensure_future(self._pump(up_reader, writer, "down", pair)),
        ]

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    direction: str, pair: _Pair) -> None:
        try:
            while True:
                await self._reading[direction].wait()
                data = await reader.read(65536)
                if not data:
                    break
                await self._open.wait()
                if self._delay:
                    await asyncio.sleep(self._delay)
                if self._rate:
                    await asyncio.sleep(len(data) / self._rate)
                at = None
                if self._cut is not None and direction == "up":
                    at = cut_point(data, self._cut)
                if at is not None:
                    self._cut = None
                    self.cuts += 1
                    writer.write(data[:at])
                    await writer.drain()
                    self._close(pair, rst=False)
                    return
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._close(pair, rst=False)

    def _close(self, pair: _Pair, *, rst: bool) -> None:
        for writer in (pair.client, pair.server):
            if rst:
                sock = writer.get_extra_info("socket")
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                        struct.pack("ii", 1, 0))
            with contextlib.suppress(Exception):
                writer.transport.abort() if rst else writer.close()
        if pair in self.pairs:
            self.pairs.remove(pair)


def cut_point(data: bytes, marker: bytes) -> int | None:
    """The offset in the middle of the first client frame in ``data`` whose (unmasked)
    payload contains ``marker``; None when there is none (or ``data`` does not start at a
    frame). Client frames are masked (RFC 6455 5.3), so the marker cannot be searched in
    the raw bytes."""
    offset = 0
    while offset + 2 <= len(data):
        length = data[offset + 1] & 0x7F
        masked = data[offset + 1] & 0x80
        head = offset + 2
        if length == 126:
            length, head = int.from_bytes(data[head:head + 2], "big"), head + 2
        elif length == 127:
            length, head = int.from_bytes(data[head:head + 8], "big"), head + 8
        if not masked or head + 4 + length > len(data):
            return None
        mask, start = data[head:head + 4], head + 4
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(data[start:start + length]))
        if marker in payload:
            return start + length // 2
        offset = start + length
    return None
