"""WebSocket settings shared by the server and the client (keep-alive, limits, timeouts)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class LinkOptions:
    """``ping_interval``/``ping_timeout`` drive websockets' keep-alive (None disables): a
    half-open peer is detected within about ``ping_interval + ping_timeout``; ``max_size``
    bounds one incoming message in bytes; compression is off by default because OCPP
    messages are small and deflate costs more CPU than it saves bandwidth.
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

    def websocket_kwargs(self) -> dict[str, Any]:
        return {
            "ping_interval": self.ping_interval,
            "ping_timeout": self.ping_timeout,
            "max_size": self.max_size,
            "open_timeout": self.open_timeout,
            "close_timeout": self.close_timeout,
            "compression": self.compression,
            **({"reuse_port": True} if self.reuse_port else {}),  # to loop.create_server
        }
