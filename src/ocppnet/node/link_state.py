"""What a router keeps per attached link, and the small interfaces around it: where frames are
written (FrameWriter), what a transport link must offer (TextLink), what observers receive."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from ocppnet.errors import ConnectionClosed
from ocppnet.routing import LinkInfo
from ocppnet.rpc.codec import encode
from ocppnet.rpc.frames import Frame

log = logging.getLogger("ocppnet.node.router")


class FrameWriter(Protocol):
    """Where frames for one link go; raises ConnectionClosed when the link is gone."""

    async def write(self, frame: Frame) -> None: ...


class TextLink(Protocol):
    """The transport Link surface the router needs."""

    async def send_text(self, data: bytes | str) -> None: ...

    def __aiter__(self) -> AsyncIterator[str | bytes]: ...


class EncodingWriter:
    """FrameWriter for a WebSocket link: encode once, send as a text message."""

    __slots__ = ("link",)

    def __init__(self, link: TextLink) -> None:
        self.link = link

    async def write(self, frame: Frame) -> None:
        await self.link.send_text(encode(frame))


@dataclass(slots=True)
class AttachedLink:
    info: LinkInfo
    version: str
    writer: FrameWriter
    opened_at: float
    frames_in: int = 0
    frames_out: int = 0
    binary: Callable[[bytes], Awaitable[None]] | None = None
    """Sends one binary message on the link (None: the link carries text only)."""


@dataclass(frozen=True, slots=True)
class FrameEvent:
    """One frame seen by the router, for the dashboard's live stream."""

    at: float
    link_id: str
    direction: str  # "in" | "out"
    frame: Frame


def write_failed(
    attached: AttachedLink, node_id: str, message_id: str, exc: ConnectionClosed
) -> bool:
    """Log a write that failed because the link closed; False, for the writer to return."""
    log.info(
        "event=write_failed node=%s link=%s message_id=%s reason=%r",
        node_id, attached.info.link_id, message_id, exc.description,
    )
    return False


class RoutedLink(Protocol):
    """What :meth:`~ocppnet.node.router.Router.run_link` reads: text and binary messages, or
    frames the link decoded itself (a link that translates, e.g. the per-station fallback)."""

    def __aiter__(self) -> AsyncIterator[str | bytes | Frame]: ...
