"""The websockets driver's client: one handshake with ``websockets.connect``."""

from __future__ import annotations

import ssl
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from ocppnet.rpc.versions import version_for_subprotocol
from ocppnet.transport.handshake import NETWORKING_MODE_HEADER, OVERLAY_MODE
from ocppnet.transport.link import Link, LinkDetails, LinkRefused
from ocppnet.transport.options import LinkOptions
from ocppnet.transport.websockets_link import WebsocketsLink


async def open_websockets_link(
    target: str,
    station_id: str,
    *,
    subprotocols: Sequence[str],
    headers: Mapping[str, str],
    ssl_context: ssl.SSLContext | None,
    options: LinkOptions,
    profile: int,
) -> Link:
    try:
        websocket: ClientConnection = await ws_connect(
            target,
            subprotocols=[Subprotocol(s) for s in subprotocols],
            additional_headers=dict(headers),
            proxy=None,
            ssl=ssl_context,
            **options.websocket_kwargs(),
        )
    except InvalidStatus as exc:
        status = exc.response.status_code
        raise LinkRefused(f"{target} refused with HTTP {status}", status=status) from exc
    except Exception as exc:  # TLS failure, network error, bad HTTP response, timeout
        raise LinkRefused(f"cannot open {target}: {exc!r}") from exc
    subprotocol = websocket.subprotocol
    version = version_for_subprotocol(subprotocol) if subprotocol else None
    if subprotocol is None or version is None:
        await websocket.close(1002, "no common OCPP subprotocol")
        raise LinkRefused(f"{target} agreed to none of {list(subprotocols)}", close_code=1002)
    response_headers = websocket.response.headers if websocket.response else {}
    peer_cert: Any = websocket.transport.get_extra_info("peercert")
    info = LinkDetails(
        station_id=station_id,
        subprotocol=subprotocol,
        version=version,
        overlay=response_headers.get(NETWORKING_MODE_HEADER) == OVERLAY_MODE,
        security_profile=profile,
        path=urlsplit(target).path,
        remote_address=websocket.remote_address,
        peer_cert=peer_cert or None,
    )
    return WebsocketsLink(websocket, info)
