"""A CSMS endpoint: one :class:`Connection` per station on standard-mode links.

Built on :func:`ocppnet.transport.server.serve`; overlay-mode links (a networking node
that multiplexes many stations) are handed to ``on_overlay_link`` when one is given — the
server only agrees to overlay mode in that case.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

from ocppnet.transport.connection import DEFAULT_CALL_TIMEOUT, Connection
from ocppnet.transport.handlers import Handlers
from ocppnet.transport.handshake import DEFAULT_SUBPROTOCOLS
from ocppnet.transport.link import DirectSender, Link, pump
from ocppnet.transport.options import LinkOptions
from ocppnet.transport.security import ServerSecurity
from ocppnet.transport.server import LinkServer, OnLink, serve

log = logging.getLogger("ocppnet.transport.csms")

#: ``on_connect(conn)`` / ``on_disconnect(conn)``: sync, or async (then run as a task).
ConnectionCallback = Callable[[Connection], Any]

CLOSE_REPLACED = 1000
"""Close code for an older link of a station that connected again."""


class CsmsServer:
    """The running server: ``port``, ``connections`` (station id -> Connection), ``close()``."""

    def __init__(
        self,
        handlers: Handlers,
        *,
        on_connect: ConnectionCallback | None,
        on_disconnect: ConnectionCallback | None,
        call_timeout: float,
        validate_messages: bool,
        on_overlay_link: OnLink | None = None,
    ) -> None:
        self.handlers = handlers
        self.on_connect = on_connect
        self.on_disconnect = on_disconnect
        self.on_overlay_link = on_overlay_link
        self.call_timeout = call_timeout
        self.validate_messages = validate_messages
        self.connections: dict[str, Connection] = {}
        self.links: dict[str, Link] = {}
        self.link_server: LinkServer | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def port(self) -> int:
        assert self.link_server is not None
        return self.link_server.port

    def _callback(self, callback: ConnectionCallback | None, connection: Connection) -> None:
        if callback is None:
            return
        try:
            result = callback(connection)
        except Exception:
            log.exception("event=callback_failed station=%s", connection.remote_id)
            return
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def handle_link(self, link: Link) -> None:
        """Serve one link until it closes: overlay links go to ``on_overlay_link``."""
        if link.info.overlay and self.on_overlay_link is not None:
            await self.on_overlay_link(link)
            return
        station_id = link.info.station_id
        previous = self.links.get(station_id)
        if previous is not None:
            log.info("event=link_replaced station=%s", station_id)
            await previous.close(CLOSE_REPLACED, "replaced by a newer connection")
        connection = Connection(
            self.handlers,
            version=link.info.version,
            remote_id=station_id,
            sender=DirectSender(link),
            call_timeout=self.call_timeout,
            validate_messages=self.validate_messages,
        )
        self.connections[station_id] = connection
        self.links[station_id] = link
        self._callback(self.on_connect, connection)
        try:
            await pump(link, connection)
        finally:
            connection.detach(f"link closed with code {link.close_code}")
            if self.connections.get(station_id) is connection:
                del self.connections[station_id]
                del self.links[station_id]
            self._callback(self.on_disconnect, connection)

    async def close(self) -> None:
        if self.link_server is not None:
            await self.link_server.close()
        for task in list(self._tasks):
            task.cancel()

    async def __aenter__(self) -> CsmsServer:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


async def serve_csms(
    handlers: Handlers,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    security: ServerSecurity | None = None,
    subprotocols: Sequence[str] = DEFAULT_SUBPROTOCOLS,
    on_connect: ConnectionCallback | None = None,
    on_disconnect: ConnectionCallback | None = None,
    on_overlay_link: OnLink | None = None,
    call_timeout: float = DEFAULT_CALL_TIMEOUT,
    validate_messages: bool = True,
    options: LinkOptions | None = None,
) -> CsmsServer:
    """Start a CSMS server answering every station's requests with ``handlers``."""
    csms = CsmsServer(
        handlers,
        on_connect=on_connect,
        on_disconnect=on_disconnect,
        call_timeout=call_timeout,
        validate_messages=validate_messages,
        on_overlay_link=on_overlay_link,
    )
    # handle_link is the server's callback itself: one coroutine frame less per connection
    csms.link_server = await serve(
        csms.handle_link,
        host,
        port,
        security=security,
        subprotocols=subprotocols,
        allow_overlay=on_overlay_link is not None,
        options=options,
    )
    return csms
