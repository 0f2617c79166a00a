"""The picows driver's server: :class:`HandshakePolicy` in picows' upgrade hook.

picows decides the upgrade in a synchronous listener factory that sees the parsed request.
We build each connection's picows protocol ourselves (what ``picows.ws_create_server`` does)
so that the factory also sees that connection's transport: the TLS client certificate is
checked there and a profile-3 mismatch gets its HTTP 403 *before* the upgrade, as on the
websockets driver. Every accepted link runs ``on_link(link)`` in its own task.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import sys
from http import HTTPStatus
from typing import Any

from picows import (
    WSAutoPingStrategy,
    WSUpgradeRequest,
    WSUpgradeResponse,
    WSUpgradeResponseWithListener,
)
from picows.picows import WSProtocol  # type: ignore[attr-defined]  # not in picows' stubs

from ocppnet.rpc.versions import version_for_subprotocol
from ocppnet.transport.deflate import HEADER as EXTENSIONS_HEADER
from ocppnet.transport.deflate import Deflate, server_accept
from ocppnet.transport.handshake import (
    NETWORKING_MODE_HEADER,
    OVERLAY_MODE,
    Refusal,
    offered_subprotocols,
    station_id_from_path,
)
from ocppnet.transport.link import LinkDetails
from ocppnet.transport.options import LinkOptions
from ocppnet.transport.picows_link import PicowsLink
from ocppnet.transport.security import ServerSecurity
from ocppnet.transport.serving import (
    CLOSE_NO_SUBPROTOCOL,
    WRONG_PASSWORD,
    Credentials,
    HandshakePolicy,
    LinkServer,
    OnLink,
    log_refusal,
)

try:  # picows' default when installed; ours only with LinkOptions(aiofastnet=True)
    import aiofastnet

    HAS_AIOFASTNET = True
except ImportError:  # pragma: no cover - picows depends on it on our platforms
    HAS_AIOFASTNET = False

log = logging.getLogger("ocppnet.transport.server")

#: picows logs every accept and disconnect at INFO as prose; ours are the structured lines,
#: so its own go to this logger from WARNING up. An adapter, not a Logger: given a Logger,
#: picows makes a child Logger object for every connection (memory per idle link).
_PICOWS_LOGGER = logging.getLogger("ocppnet.transport.picows")
_PICOWS_LOGGER.setLevel(logging.WARNING)
PICOWS_LOG = logging.LoggerAdapter(_PICOWS_LOGGER, {})

_ASYNC_CHECK = Refusal(HTTPStatus.SERVICE_UNAVAILABLE,
                       "the password check is asynchronous: run the websockets driver")


def keepalive_kwargs(options: LinkOptions) -> dict[str, Any]:
    """picows' keep-alive from ``ping_interval``/``ping_timeout``: a ping once nothing came in
    for ``ping_interval``, the link closed (1001) without a pong in ``ping_timeout``. picows
    requires the reply timeout <= the idle timeout: the interval is raised to the timeout."""
    if options.ping_interval is None:
        return {"enable_auto_ping": False, "auto_ping_idle_timeout": 20.0,
                "auto_ping_reply_timeout": 20.0}
    reply = options.ping_timeout if options.ping_timeout is not None else options.ping_interval
    return {"enable_auto_ping": True, "auto_ping_idle_timeout": max(options.ping_interval, reply),
            "auto_ping_reply_timeout": reply}


def max_frame_size(options: LinkOptions) -> int:
    return options.max_size if options.max_size is not None else sys.maxsize


class PicowsLinkServer(LinkServer):
    driver = "picows"

    def __init__(self, on_link: OnLink, close_timeout: float | None) -> None:
        self.on_link = on_link
        self.close_timeout = close_timeout
        self.server: asyncio.AbstractServer | None = None
        self.links: set[PicowsLink] = set()
        self.tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]

    @property
    def link_count(self) -> int:
        return len(self.links)

    def opened(self, link: PicowsLink) -> None:
        """picows completed the handshake: serve the link in a task."""
        self._spawn(self._serve(link))

    def opened_without_subprotocol(self, link: PicowsLink) -> None:
        transport = link.transport
        offered = transport.request.headers.getall("Sec-WebSocket-Protocol", []) if (
            transport is not None) else []
        log.warning("event=no_common_subprotocol remote=%s offered=%r",
                    link.info.remote_address, offered)
        self._spawn(link.close(CLOSE_NO_SUBPROTOCOL, "no common OCPP subprotocol"))

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _serve(self, link: PicowsLink) -> None:
        info = link.info
        self.links.add(link)
        log.info(
            "event=link_open station=%s subprotocol=%s overlay=%s profile=%d remote=%s "
            "driver=picows",
            info.station_id, info.subprotocol, info.overlay, info.security_profile,
            info.remote_address,
        )
        try:
            await self.on_link(link)
        except Exception:
            log.exception("event=on_link_failed station=%s", info.station_id)
        finally:
            self.links.discard(link)
            await link.close()
            log.info("event=link_closed station=%s code=%s", info.station_id, link.close_code)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        links = list(self.links)
        if links:
            await asyncio.gather(*(link.close(1001) for link in links), return_exceptions=True)
        if self.tasks:
            _, pending = await asyncio.wait(set(self.tasks), timeout=self.close_timeout)
            for task in pending:  # an on_link that does not end when its link closes
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        if self.server is not None:
            with contextlib.suppress(Exception):
                await self.server.wait_closed()


class _Upgrade:
    """The upgrade decision for one server, given each request and its connection."""

    def __init__(
        self, security: ServerSecurity, policy: HandshakePolicy, options: LinkOptions,
        server: PicowsLinkServer,
    ) -> None:
        self.security = security
        self.policy = policy
        self.options = options
        self.server = server

    def refuse(self, refusal: Refusal, station: str, remote: Any) -> WSUpgradeResponseWithListener:
        log_refusal(refusal, station, remote)
        response = WSUpgradeResponse.create_error_response(
            refusal.status, (refusal.reason + "\n").encode(),
            extra_headers=self.policy.refusal_headers(refusal))
        return WSUpgradeResponseWithListener(response, None)

    def __call__(
        self, request: WSUpgradeRequest, underlying: asyncio.BaseTransport
    ) -> WSUpgradeResponseWithListener:
        path = request.path.decode("latin-1")
        headers = request.headers
        remote = underlying.get_extra_info("peername")
        peercert = underlying.get_extra_info("peercert")
        who = self.policy.identify(path, peercert, headers.get("Authorization"))
        if isinstance(who, Refusal):
            station = station_id_from_path(path)
            return self.refuse(who, station if isinstance(station, str) else "-", remote)
        if isinstance(who, Credentials):
            verdict = self.policy.check_password(who)
            if inspect.isawaitable(verdict):
                if inspect.iscoroutine(verdict):
                    verdict.close()
                return self.refuse(_ASYNC_CHECK, who.station_id, remote)
            if not verdict:
                return self.refuse(WRONG_PASSWORD, who.station_id, remote)
            who = who.station_id
        subprotocol = self.policy.subprotocol(
            offered_subprotocols(headers.getall("Sec-WebSocket-Protocol", [])))
        extra: dict[str, str] = {}
        overlay = False
        deflate = None
        if subprotocol is not None:
            extra["Sec-WebSocket-Protocol"] = subprotocol
            overlay = self.policy.overlay(headers)
            if overlay:
                extra[NETWORKING_MODE_HEADER] = OVERLAY_MODE
            if self.options.compression == "deflate":
                agreement = server_accept(headers.getall(EXTENSIONS_HEADER, []))
                if agreement is not None:
                    extra[EXTENSIONS_HEADER] = agreement.header()
                    deflate = Deflate(agreement, client=False)
        info = LinkDetails(
            station_id=who,
            subprotocol=subprotocol or "",
            version=(version_for_subprotocol(subprotocol) or "") if subprotocol else "",
            overlay=overlay,
            security_profile=self.security.profile,
            path=path,
            remote_address=remote,
            peer_cert=peercert or None,
        )
        link = PicowsLink(
            info,
            send_buffer_limit=self.options.send_buffer_limit,
            max_size=self.options.max_size,
            close_timeout=self.options.close_timeout,
            deflate=deflate,
            on_open=self.server.opened if subprotocol is not None
            else self.server.opened_without_subprotocol,
        )
        return WSUpgradeResponseWithListener(
            WSUpgradeResponse.create_101_response(extra_headers=extra), link)


async def serve_picows(
    on_link: OnLink,
    host: str,
    port: int,
    *,
    security: ServerSecurity,
    policy: HandshakePolicy,
    options: LinkOptions,
) -> LinkServer:
    server = PicowsLinkServer(on_link, options.close_timeout)
    upgrade = _Upgrade(security, policy, options, server)
    keepalive = keepalive_kwargs(options)
    frame_limit = max_frame_size(options)

    def protocol_factory() -> WSProtocol:
        def listener_factory(request: WSUpgradeRequest) -> WSUpgradeResponseWithListener:
            return upgrade(request, protocol.transport.underlying_transport)

        # picows 2.3's WSProtocol arguments, in ws_create_server's order
        protocol = WSProtocol(
            None, None, False, listener_factory, PICOWS_LOG, True, options.open_timeout,
            keepalive["enable_auto_ping"], keepalive["auto_ping_idle_timeout"],
            keepalive["auto_ping_reply_timeout"], WSAutoPingStrategy.PING_WHEN_IDLE,
            True, frame_limit, None, options.read_buffer_size,
        )
        return protocol

    loop = asyncio.get_running_loop()
    if options.aiofastnet and HAS_AIOFASTNET:
        server.server = await aiofastnet.create_server(
            loop, protocol_factory, host, port, ssl=security.ssl_context,
            reuse_port=options.reuse_port or None)  # cluster: --reuse-port
    else:
        server.server = await loop.create_server(
            protocol_factory, host, port, ssl=security.ssl_context,
            reuse_port=options.reuse_port or None)  # cluster: --reuse-port
    return server
