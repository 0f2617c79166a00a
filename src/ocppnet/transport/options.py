"""WebSocket settings shared by the server and the client (keep-alive, limits, timeouts)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class LinkOptions:
    """``ping_interval``/``ping_timeout`` drive websockets' keep-alive (None disables);
    ``max_size`` bounds one incoming message in bytes; compression is off by default
    because OCPP messages are small and deflate costs more CPU than it saves bandwidth."""

    ping_interval: float | None = 20.0
    ping_timeout: float | None = 20.0
    max_size: int | None = 1_048_576
    open_timeout: float | None = 10.0
    close_timeout: float | None = 5.0
    compression: str | None = None

    def websocket_kwargs(self) -> dict[str, Any]:
        return {
            "ping_interval": self.ping_interval,
            "ping_timeout": self.ping_timeout,
            "max_size": self.max_size,
            "open_timeout": self.open_timeout,
            "close_timeout": self.close_timeout,
            "compression": self.compression,
        }
