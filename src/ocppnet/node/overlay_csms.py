"""A CSMS endpoint that understands overlay links: stations behind networking nodes look as if
they were connected directly (one :class:`Connection` each), plain stations still connect
directly. Internally the CSMS is a router whose local application is the CSMS's handlers.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

from ocppnet.node.endpoint import ConnectCallback, LocalEndpoint
from ocppnet.node.queue import ForwardQueue
from ocppnet.node.router import Router
from ocppnet.node.service import downstream_link_info
from ocppnet.routing import CSMS
from ocppnet.transport.connection import DEFAULT_CALL_TIMEOUT, Connection
from ocppnet.transport.handlers import Handlers
from ocppnet.transport.handshake import DEFAULT_SUBPROTOCOLS
from ocppnet.transport.link import Link
from ocppnet.transport.options import LinkOptions
from ocppnet.transport.security import ServerSecurity
from ocppnet.transport.server import LinkServer, serve


class OverlayCsmsServer:
    """The running server: ``port``, ``connections`` (station id -> Connection), ``router``."""

    def __init__(self, router: Router, endpoint: LocalEndpoint) -> None:
        self.router = router
        self.endpoint = endpoint
        self.link_server: LinkServer | None = None
        self._links: dict[str, Link] = {}
        self._counter = 0

    @property
    def port(self) -> int:
        assert self.link_server is not None
        return self.link_server.port

    @property
    def connections(self) -> dict[str, Connection]:
        return self.endpoint.connections

    async def handle_link(self, link: Link) -> None:
        station_id = link.info.station_id
        previous = self._links.get(station_id)
        if previous is not None:
            await previous.close(1000, "replaced by a newer connection")
        self._counter += 1
        info = downstream_link_info(link, self._counter)
        self._links[station_id] = link

        def connected() -> None:
            # a direct station can be called before it says anything
            if not info.overlay:
                self.endpoint.connection(station_id, link.info.version, (station_id,))

        try:
            await self.router.run_link(link, info, link.info.version, on_attached=connected)
        finally:
            if self._links.get(station_id) is link:
                del self._links[station_id]

    async def close(self) -> None:
        if self.link_server is not None:
            await self.link_server.close()
        await self.router.stop()

    async def __aenter__(self) -> OverlayCsmsServer:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


async def serve_overlay_csms(
    handlers: Handlers,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    node_id: str = "CSMS-1",
    security: ServerSecurity | None = None,
    subprotocols: Sequence[str] = DEFAULT_SUBPROTOCOLS,
    on_connect: ConnectCallback | None = None,
    on_disconnect: ConnectCallback | None = None,
    call_timeout: float = DEFAULT_CALL_TIMEOUT,
    validate_messages: bool = True,
    options: LinkOptions | None = None,
    queue: ForwardQueue | None = None,
    learned_ttl: float = 300.0,
) -> OverlayCsmsServer:
    """Start a CSMS that serves plain stations and networking nodes alike."""
    # the CSMS is the edge: it handles what it receives, so it decodes frames fully
    router = Router(node_id, aliases=frozenset({CSMS}), queue=queue, learned_ttl=learned_ttl,
                    header_only=False)
    endpoint = LocalEndpoint(
        router, handlers, on_connect=on_connect, on_disconnect=on_disconnect,
        call_timeout=call_timeout, validate_messages=validate_messages,
    )
    server = OverlayCsmsServer(router, endpoint)
    router.start()
    server.link_server = await serve(
        server.handle_link, host, port, security=security, subprotocols=subprotocols,
        allow_overlay=True, options=options,
    )
    return server
