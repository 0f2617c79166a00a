"""The OCPP WebSocket server: handshake policy on `websockets`, one :class:`Link` per station.

:func:`serve` is the low level (the node and the CSMS call it with their own ``on_link``).
Handshake outcomes, in order (docs/transport.md):

- no station id in the URL -> HTTP 404; an id that is not an identifierString -> 400;
- profile 3: no client certificate -> 401, certificate CN != station id -> 403
  (a certificate from an unknown CA already fails the TLS handshake);
- profiles 1 and 2: missing/malformed Basic auth, username != station id or a wrong
  password -> 401 with ``WWW-Authenticate: Basic``;
- no common subprotocol -> the handshake completes without ``Sec-WebSocket-Protocol`` and
  the server closes at once with 1002 (what OCPP-J part 4 prescribes);
- ``X-OCPP-NetworkingMode: OverlayNetwork`` is echoed only when ``allow_overlay``.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from http import HTTPStatus
from types import TracebackType
from typing import Any

from websockets.asyncio.server import Server, ServerConnection
from websockets.asyncio.server import serve as ws_serve
from websockets.datastructures import Headers
from websockets.exceptions import InvalidHeader
from websockets.headers import build_www_authenticate_basic, parse_authorization_basic
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from ocppnet.rpc.versions import version_for_subprotocol
from ocppnet.transport.handshake import (
    DEFAULT_SUBPROTOCOLS,
    NETWORKING_MODE_HEADER,
    OVERLAY_MODE,
    Refusal,
    check_basic_user,
    check_client_certificate,
    select_subprotocol,
    station_id_from_path,
    wants_overlay,
)
from ocppnet.transport.link import Link, LinkDetails
from ocppnet.transport.options import LinkOptions
from ocppnet.transport.security import ServerSecurity

log = logging.getLogger("ocppnet.transport.server")

CLOSE_NO_SUBPROTOCOL = 1002
"""Close code when client and server share no OCPP subprotocol (protocol error)."""

OnLink = Callable[[Link], Awaitable[None]]


class LinkServer:
    """A listening OCPP server; ``async with`` or :meth:`close` stops it and closes its links."""

    def __init__(self, server: Server) -> None:
        self.websocket_server = server

    @property
    def port(self) -> int:
        return int(self.websocket_server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        self.websocket_server.close()
        await self.websocket_server.wait_closed()

    async def __aenter__(self) -> LinkServer:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


class _Handshake:
    """The websockets callbacks that apply one server's policy."""

    def __init__(
        self, security: ServerSecurity, subprotocols: Sequence[str], allow_overlay: bool
    ) -> None:
        self.security = security
        self.subprotocols = tuple(subprotocols)
        self.allow_overlay = allow_overlay

    def refuse(self, connection: ServerConnection, refusal: Refusal, station: str) -> Response:
        log.warning(
            "event=handshake_refused station=%s status=%d reason=%r remote=%s",
            station, refusal.status, refusal.reason, connection.remote_address,
        )
        response = connection.respond(refusal.status, refusal.reason + "\n")
        if refusal.status == HTTPStatus.UNAUTHORIZED and self.security.basic_auth:
            response.headers["WWW-Authenticate"] = build_www_authenticate_basic("OCPP")
        return response

    async def process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        station_id = station_id_from_path(request.path)
        if isinstance(station_id, Refusal):
            return self.refuse(connection, station_id, "-")
        if self.security.profile == 3:
            peercert = connection.transport.get_extra_info("peercert")
            refusal = check_client_certificate(peercert, station_id)
            if refusal is not None:
                return self.refuse(connection, refusal, station_id)
        if self.security.basic_auth:
            refusal = await self.check_basic(request.headers, station_id)
            if refusal is not None:
                return self.refuse(connection, refusal, station_id)
        return None

    async def check_basic(self, headers: Headers, station_id: str) -> Refusal | None:
        header = headers.get("Authorization")
        if header is None:
            return Refusal(HTTPStatus.UNAUTHORIZED, "missing Basic credentials")
        try:
            username, password = parse_authorization_basic(header)
        except InvalidHeader:
            return Refusal(HTTPStatus.UNAUTHORIZED, "malformed Basic credentials")
        refusal = check_basic_user(username, station_id)
        if refusal is not None:
            return refusal
        check = self.security.check_password
        assert check is not None  # ServerSecurity guarantees it for profiles 1 and 2
        verdict = check(station_id, password)
        if inspect.isawaitable(verdict):
            verdict = await verdict
        if not verdict:
            return Refusal(HTTPStatus.UNAUTHORIZED, "wrong password")
        return None

    def select_subprotocol(
        self, connection: ServerConnection, offered: Sequence[Subprotocol]
    ) -> Subprotocol | None:
        chosen = select_subprotocol(offered, self.subprotocols)
        return Subprotocol(chosen) if chosen is not None else None

    def process_response(
        self, connection: ServerConnection, request: Request, response: Response
    ) -> Response | None:
        if (
            self.allow_overlay
            and response.status_code == HTTPStatus.SWITCHING_PROTOCOLS
            and wants_overlay(request.headers)
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


async def serve(
    on_link: OnLink,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    security: ServerSecurity | None = None,
    subprotocols: Sequence[str] = DEFAULT_SUBPROTOCOLS,
    allow_overlay: bool = False,
    options: LinkOptions | None = None,
) -> LinkServer:
    """Listen for OCPP stations; ``await on_link(link)`` runs for each accepted WebSocket.

    ``subprotocols`` is the server's preference order. The link closes (1000) when
    ``on_link`` returns.
    """
    security = security or ServerSecurity()
    options = options or LinkOptions()
    for subprotocol in subprotocols:
        if version_for_subprotocol(subprotocol) is None:
            raise ValueError(f"unsupported OCPP subprotocol {subprotocol!r}")
    policy = _Handshake(security, subprotocols, allow_overlay)

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
            "event=link_open station=%s subprotocol=%s overlay=%s profile=%d remote=%s",
            info.station_id, info.subprotocol, info.overlay, info.security_profile,
            info.remote_address,
        )
        try:
            await on_link(Link(websocket, info, send_buffer_limit=options.send_buffer_limit))
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
        subprotocols=[Subprotocol(s) for s in subprotocols],
        select_subprotocol=policy.select_subprotocol,
        process_request=policy.process_request,
        process_response=policy.process_response,
        ssl=security.ssl_context,
        **options.websocket_kwargs(),
    )
    return LinkServer(server)
