"""The websockets driver's server: :class:`HandshakePolicy` in websockets' handshake hooks."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import Server, ServerConnection
from websockets.asyncio.server import serve as ws_serve
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from ocppnet.rpc.versions import version_for_subprotocol
from ocppnet.transport.handshake import (
    NETWORKING_MODE_HEADER,
    OVERLAY_MODE,
    Refusal,
    station_id_from_path,
)
from ocppnet.transport.link import LinkDetails
from ocppnet.transport.options import LinkOptions
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
from ocppnet.transport.websockets_link import WebsocketsLink

log = logging.getLogger("ocppnet.transport.server")


class WebsocketsLinkServer(LinkServer):
    driver = "websockets"

    def __init__(self, server: Server) -> None:
        self.websocket_server = server

    @property
    def port(self) -> int:
        return int(self.websocket_server.sockets[0].getsockname()[1])

    @property
    def link_count(self) -> int:
        return len(self.websocket_server.connections)

    async def close(self) -> None:
        self.websocket_server.close()
        await self.websocket_server.wait_closed()


class _Hooks:
    """The websockets callbacks that apply one server's policy."""

    def __init__(self, policy: HandshakePolicy) -> None:
        self.policy = policy

    def refuse(self, connection: ServerConnection, refusal: Refusal, station: str) -> Response:
        log_refusal(refusal, station, connection.remote_address)
        response = connection.respond(refusal.status, refusal.reason + "\n")
        for name, value in self.policy.refusal_headers(refusal).items():
            response.headers[name] = value
        return response

    async def process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        peercert = connection.transport.get_extra_info("peercert")
        who = self.policy.identify(request.path, peercert, request.headers.get("Authorization"))
        if isinstance(who, Refusal):
            station = station_id_from_path(request.path)
            return self.refuse(connection, who, station if isinstance(station, str) else "-")
        if isinstance(who, Credentials):
            verdict = self.policy.check_password(who)
            if inspect.isawaitable(verdict):
                verdict = await verdict
            if not verdict:
                return self.refuse(connection, WRONG_PASSWORD, who.station_id)
        return None

    def select_subprotocol(
        self, connection: ServerConnection, offered: Sequence[Subprotocol]
    ) -> Subprotocol | None:
        chosen = self.policy.subprotocol(offered)
        return Subprotocol(chosen) if chosen is not None else None

    def process_response(
        self, connection: ServerConnection, request: Request, response: Response
    ) -> Response | None:
        if response.status_code == HTTPStatus.SWITCHING_PROTOCOLS and self.policy.overlay(
            request.headers
        ):
            response.headers[NETWORKING_MODE_HEADER] = OVERLAY_MODE
        return None


def _link_info(websocket: ServerConnection, profile: int) -> LinkDetails | None:
    request, response, subprotocol = websocket.request, websocket.response, websocket.subprotocol
    if request is None or response is None or subprotocol is None:
        return None
    version = version_for_subprotocol(subprotocol)
    station_id = station_id_from_path(request.path)
    if version is None or isinstance(station_id, Refusal):
        return None
    peer_cert: Any = websocket.transport.get_extra_info("peercert")
    return LinkDetails(
        station_id=station_id,
        subprotocol=subprotocol,
        version=version,
        overlay=response.headers.get(NETWORKING_MODE_HEADER) == OVERLAY_MODE,
        security_profile=profile,
        path=request.path,
        remote_address=websocket.remote_address,
        peer_cert=peer_cert or None,
    )


async def serve_websockets(
    on_link: OnLink,
    host: str,
    port: int,
    *,
    security: ServerSecurity,
    policy: HandshakePolicy,
    options: LinkOptions,
) -> LinkServer:
    hooks = _Hooks(policy)

    async def handler(websocket: ServerConnection) -> None:
        info = _link_info(websocket, security.profile)
        if info is None:
            log.warning(
                "event=no_common_subprotocol remote=%s offered=%r",
                websocket.remote_address,
                websocket.request.headers.get_all("Sec-WebSocket-Protocol")
                if websocket.request
                else [],
            )
            await websocket.close(CLOSE_NO_SUBPROTOCOL, "no common OCPP subprotocol")
            return
        log.info(
            "event=link_open station=%s subprotocol=%s overlay=%s profile=%d remote=%s "
            "driver=websockets",
            info.station_id, info.subprotocol, info.overlay, info.security_profile,
            info.remote_address,
        )
        try:
            await on_link(
                WebsocketsLink(websocket, info, send_buffer_limit=options.send_buffer_limit)
            )
        except Exception:
            log.exception("event=on_link_failed station=%s", info.station_id)
        finally:
            log.info(
                "event=link_closed station=%s code=%s", info.station_id, websocket.close_code
            )

    server = await ws_serve(
        handler,
        host,
        port,
        subprotocols=[Subprotocol(s) for s in policy.subprotocols],
        select_subprotocol=hooks.select_subprotocol,
        process_request=hooks.process_request,
        process_response=hooks.process_response,
        ssl=security.ssl_context,
        **options.websocket_kwargs(),
    )
    return WebsocketsLinkServer(server)
