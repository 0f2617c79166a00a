"""The OCPP WebSocket server: one :class:`Link` per station, on the picows or websockets driver.

:func:`serve` is the low level (the node and the CSMS call it with their own ``on_link``).
Handshake outcomes, in order (docs/transport.md; the rules are ``serving.HandshakePolicy``):

- no station id in the URL -> HTTP 404; an id that is not an identifierString -> 400;
- profile 3: no client certificate -> 401, certificate CN != station id -> 403
  (a certificate from an unknown CA already fails the TLS handshake);
- profiles 1 and 2: missing/malformed Basic auth, username != station id or a wrong
  password -> 401 with ``WWW-Authenticate: Basic``;
- no common subprotocol -> the handshake completes without ``Sec-WebSocket-Protocol`` and
  the server closes at once with 1002 (what OCPP-J part 4 prescribes);
- ``X-OCPP-NetworkingMode: OverlayNetwork`` is echoed only when ``allow_overlay``.

The driver is ``options.driver``, else ``$OCPPNET_WS_DRIVER``, else picows; a server whose
password check is a coroutine function runs on websockets (picows' upgrade hook is sync).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Sequence

from ocppnet.rpc.versions import version_for_subprotocol
from ocppnet.transport.handshake import DEFAULT_SUBPROTOCOLS
from ocppnet.transport.options import LinkOptions, resolve_driver
from ocppnet.transport.picows_server import serve_picows
from ocppnet.transport.security import PasswordCheck, ServerSecurity
from ocppnet.transport.serving import CLOSE_NO_SUBPROTOCOL, HandshakePolicy, LinkServer, OnLink
from ocppnet.transport.websockets_server import serve_websockets

__all__ = ["CLOSE_NO_SUBPROTOCOL", "LinkServer", "OnLink", "serve"]

log = logging.getLogger("ocppnet.transport.server")


def is_async_check(check: PasswordCheck | None) -> bool:
    """Is the password check a coroutine function (or an object whose ``__call__`` is)?"""
    if check is None:
        return False
    return inspect.iscoroutinefunction(check) or inspect.iscoroutinefunction(
        getattr(check, "__call__", None))  # noqa: B004 (an instance's __call__)


def server_driver(options: LinkOptions, security: ServerSecurity) -> str:
    driver = resolve_driver(options.driver)
    if driver == "picows" and is_async_check(security.check_password):
        log.info("event=driver_fallback driver=websockets "
                 "reason='the password check is asynchronous'")
        return "websockets"
    return driver


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
    policy = HandshakePolicy(security, subprotocols, allow_overlay)
    if server_driver(options, security) == "picows":
        return await serve_picows(
            on_link, host, port, security=security, policy=policy, options=options)
    return await serve_websockets(
        on_link, host, port, security=security, policy=policy, options=options)
