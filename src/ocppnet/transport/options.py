"""WebSocket settings shared by the server and the client (driver, keep-alive, limits)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: The WebSocket libraries a link can run on (docs/transport.md, "Drivers").
DRIVERS = ("picows", "websockets")
#: The measured default (docs/transport.md): picows.
DEFAULT_DRIVER = "picows"
#: Environment variable that picks the driver where ``LinkOptions.driver`` is None.
DRIVER_ENV = "OCPPNET_WS_DRIVER"


def resolve_driver(requested: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """``requested``, else ``$OCPPNET_WS_DRIVER``, else the default; ValueError names the
    setting when it is not one of :data:`DRIVERS`."""
    if requested is not None:
        if requested not in DRIVERS:
            raise ValueError(f"driver: {requested!r} is not one of {', '.join(DRIVERS)}")
        return requested
    value = environ.get(DRIVER_ENV, "").strip()
    if not value:
        return DEFAULT_DRIVER
    if value not in DRIVERS:
        raise ValueError(f"{DRIVER_ENV}={value!r}: must be one of {', '.join(DRIVERS)}")
    return value


@dataclass(frozen=True, slots=True)
class LinkOptions:
    """``driver``: ``"picows"``, ``"websockets"`` or None (``$OCPPNET_WS_DRIVER``, else
    picows). ``ping_interval``/``ping_timeout`` drive the keep-alive (None disables): a
    half-open peer is detected within about ``ping_interval + ping_timeout``; ``max_size``
    bounds one incoming message in bytes; ``compression="deflate"`` offers (client) and
    accepts (server) permessage-deflate, off by default because OCPP messages are small and
    deflate costs more CPU than it saves bandwidth. ``read_buffer_size`` is picows' initial
    per-link read buffer (it grows for larger frames; idle memory per link); ``aiofastnet``
    puts picows links on aiofastnet's transports instead of the event loop's (measured: ~10 %
    less CPU per call, ~5 KiB more per idle link; docs/transport.md).
    ``send_buffer_limit`` bounds the bytes waiting to be sent on a link accepted by our
    server: such a link never makes its writer wait (a station that stops reading must not
    stall the frames for every other station), and it is closed, with a logged reason, once
    that much is waiting (None: no bound, wait like any writer)."""

    ping_interval: float | None = 20.0
    ping_timeout: float | None = 20.0
    max_size: int | None = 1_048_576
    open_timeout: float | None = 10.0
    close_timeout: float | None = 5.0
    reuse_port: bool = False  # server only: SO_REUSEPORT, several processes on one port
    compression: str | None = None
    send_buffer_limit: int | None = 1_048_576
    driver: str | None = None
    read_buffer_size: int = 2048
    aiofastnet: bool = False

    def __post_init__(self) -> None:
        if self.compression not in (None, "deflate"):
            raise ValueError(f"compression: {self.compression!r} is not None or 'deflate'")
        if self.driver is not None:
            resolve_driver(self.driver)

    def websocket_kwargs(self) -> dict[str, Any]:
        """The websockets driver's keyword arguments."""
        return {
            "ping_interval": self.ping_interval,
            "ping_timeout": self.ping_timeout,
            "max_size": self.max_size,
            "open_timeout": self.open_timeout,
            "close_timeout": self.close_timeout,
            "compression": self.compression,
            **({"reuse_port": True} if self.reuse_port else {}),  # to loop.create_server
        }
