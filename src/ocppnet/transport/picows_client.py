"""The picows driver's client: one handshake with ``picows.ws_connect``.

picows leaves subprotocols and extensions to the application: we send the offer headers and
check the answer in the listener factory, which runs right after the 101 response is parsed
and before any frame that came with it (a server may send a compressed message at once).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from picows import WSHandshakeError, WSUpgradeRequest, WSUpgradeResponse, ws_connect

from ocppnet.rpc.versions import version_for_subprotocol
from ocppnet.transport.deflate import CLIENT_OFFER, Deflate, client_accept
from ocppnet.transport.deflate import HEADER as EXTENSIONS_HEADER
from ocppnet.transport.handshake import NETWORKING_MODE_HEADER, OVERLAY_MODE
from ocppnet.transport.link import Link, LinkDetails, LinkRefused
from ocppnet.transport.options import LinkOptions
from ocppnet.transport.picows_link import PicowsLink
from ocppnet.transport.picows_server import (
    HAS_AIOFASTNET,
    PICOWS_LOG,
    keepalive_kwargs,
    max_frame_size,
)


async def open_picows_link(
    target: str,
    station_id: str,
    *,
    subprotocols: Sequence[str],
    headers: Mapping[str, str],
    ssl_context: ssl.SSLContext | None,
    options: LinkOptions,
    profile: int,
) -> Link:
    offer = {"Sec-WebSocket-Protocol": ", ".join(subprotocols), **headers}
    deflate_offered = options.compression == "deflate"
    if deflate_offered:
        offer[EXTENSIONS_HEADER] = CLIENT_OFFER
    details = LinkDetails(station_id=station_id, subprotocol="", version="", overlay=False,
                          security_profile=profile, path=urlsplit(target).path)

    def listener(request: WSUpgradeRequest, response: WSUpgradeResponse) -> PicowsLink:
        answered = response.headers.getall(EXTENSIONS_HEADER, [])
        deflate = None
        if answered and not deflate_offered:
            raise ValueError(f"{EXTENSIONS_HEADER}: {answered!r} answers no offer of ours")
        agreement = client_accept(answered) if answered else None
        if agreement is not None:
            deflate = Deflate(agreement, client=True)
        subprotocol = response.headers.get("Sec-WebSocket-Protocol")
        if subprotocol is not None and subprotocol not in subprotocols:
            raise ValueError(f"the server chose subprotocol {subprotocol!r}, not offered")
        version = version_for_subprotocol(subprotocol) if subprotocol else None
        info = replace(details, subprotocol=subprotocol or "", version=version or "",
                       overlay=response.headers.get(NETWORKING_MODE_HEADER) == OVERLAY_MODE)
        return PicowsLink(info, max_size=options.max_size, close_timeout=options.close_timeout,
                          deflate=deflate)

    try:
        async with asyncio.timeout(options.open_timeout):
            transport, link = await ws_connect(
                listener, target, ssl_context=ssl_context,
                websocket_handshake_timeout=options.open_timeout, logger_name=PICOWS_LOG,
                max_frame_size=max_frame_size(options), extra_headers=offer, max_redirects=0,
                read_buffer_init_size=options.read_buffer_size,
                use_aiofastnet=options.aiofastnet and HAS_AIOFASTNET, **keepalive_kwargs(options),
            )
    except WSHandshakeError as exc:
        status = exc.response.status if exc.response is not None else None
        if status is not None and int(status) >= 300:
            raise LinkRefused(f"{target} refused with HTTP {int(status)}",
                              status=int(status)) from exc
        raise LinkRefused(f"cannot open {target}: {exc!r}") from exc
    except Exception as exc:  # TLS failure, network error, bad answer, timeout
        raise LinkRefused(f"cannot open {target}: {exc!r}") from exc
    if not isinstance(link, PicowsLink):  # picows returns no listener when the peer hung up
        raise LinkRefused(f"cannot open {target}: the connection closed during the handshake")
    if not link.info.version:
        await link.close(1002, "no common OCPP subprotocol")
        raise LinkRefused(f"{target} agreed to none of {list(subprotocols)}", close_code=1002)
    underlying: Any = transport.underlying_transport
    link.info = replace(link.info, remote_address=underlying.get_extra_info("peername"),
                        peer_cert=underlying.get_extra_info("peercert") or None)
    return link
