"""A WebSocket after a successful OCPP handshake: what was agreed, and raw send/receive.

:class:`Link` is the driver-independent interface (``transport.picows_link`` and
``transport.websockets_link`` implement it) that the node/CSMS overlay code builds on;
:class:`DirectSender` and :func:`pump` connect one Link to one
:class:`~ocppnet.transport.connection.Connection` (standard mode, or an overlay link that
carries a single peer).
"""

from __future__ import annotations

import abc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from ocppnet.errors import ConnectionClosed
from ocppnet.rpc.codec import DecodeFailure, decode, encode
from ocppnet.rpc.frames import Frame
from ocppnet.transport.connection import Connection
from ocppnet.transport.undecodable import answer_undecodable

log = logging.getLogger("ocppnet.transport.link")


@dataclass(frozen=True, slots=True)
class LinkDetails:
    """What the opening handshake established.

    ``station_id`` is the id from the URL (on a client: the id we connected as);
    ``overlay`` is True when the server echoed ``X-OCPP-NetworkingMode: OverlayNetwork``;
    ``peer_cert`` is ``getpeercert()`` of the other side when TLS verified one.
    """

    station_id: str
    subprotocol: str
    version: str
    overlay: bool
    security_profile: int
    path: str = "/"
    remote_address: Any = None
    peer_cert: Mapping[str, Any] | None = field(default=None, repr=False)


class LinkRefused(ConnectionClosed):
    """The link could not be opened: HTTP refusal (``status``), no common subprotocol
    (``close_code`` 1002), TLS failure or network error (see ``__cause__``)."""

    def __init__(
        self, description: str, *, status: int | None = None, close_code: int | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.close_code = close_code


class TextSender(Protocol):
    """Something that sends one text message: a link, or a link's coalescing sender."""

    async def send_text(self, data: bytes | str) -> None: ...


class Link(abc.ABC):
    """One open WebSocket plus its :class:`LinkDetails`; iterate it for incoming messages.

    Two drivers implement it (docs/transport.md, "Drivers"): ``PicowsLink`` and
    ``WebsocketsLink``. ``send_buffer_limit`` None: a write waits while the peer reads slower
    than we write (flow control); a number: writes never wait, and the link is closed once
    that many bytes wait to be sent.
    """

    __slots__ = ()

    driver: ClassVar[str]
    info: LinkDetails
    send_buffer_limit: int | None

    @abc.abstractmethod
    async def send_text(self, data: bytes | str) -> None:
        """Send one text message (already-encoded UTF-8 JSON); ConnectionClosed if gone."""

    @abc.abstractmethod
    async def send_binary(self, data: bytes) -> None:
        """Send one binary message; ConnectionClosed if gone."""

    @abc.abstractmethod
    def __aiter__(self) -> AsyncIterator[str | bytes]:
        """Text messages as str, binary messages as bytes, until the link closes."""

    @abc.abstractmethod
    async def close(self, code: int = 1000, reason: str = "") -> None:
        """The closing handshake (at most ``close_timeout``), then the TCP connection."""

    @property
    @abc.abstractmethod
    def close_code(self) -> int | None:
        """None while open; the code the peer's close frame carried (1005: none), 1006 when
        the connection ended without a closing handshake."""

    @abc.abstractmethod
    def coalescing_sender(self, name: str) -> TextSender:
        """A sender whose text messages leave in one socket write per event-loop turn, in
        order with everything else sent on this link (for overlay links: many stations)."""

    def buffer_exceeded(self, waiting: int) -> ConnectionClosed:
        """Log that the peer stopped reading; the exception to raise once the link is cut."""
        log.warning(
            "event=send_buffer_exceeded station=%s waiting_bytes=%d limit=%d "
            "reason='the peer does not read what it is sent'",
            self.info.station_id, waiting, self.send_buffer_limit,
        )
        return ConnectionClosed(f"link to {self.info.station_id} closed: {waiting} bytes waited "
                                f"to be sent (limit {self.send_buffer_limit})")


class DirectSender:
    """FrameSender for a Connection that is alone on its link: encode and send as text."""

    __slots__ = ("link",)

    def __init__(self, link: Link) -> None:
        self.link = link

    async def send_frame(self, frame: Frame) -> None:
        await self.link.send_text(encode(frame))


BinaryHandler = Callable[[bytes], Awaitable[None]]


async def pump(
    link: Link, connection: Connection, *, on_binary: BinaryHandler | None = None
) -> None:
    """Read ``link`` until it closes, decoding each text message into ``connection``.

    A malformed message gets the codec's CALLERROR when it carries a recoverable message id,
    otherwise it is logged and dropped. Binary messages go to ``on_binary`` (or are dropped).
    """
    overlay = link.info.overlay
    sender = DirectSender(link)
    async for message in link:
        if isinstance(message, bytes):
            if on_binary is not None:
                await on_binary(message)
            else:
                log.warning(
                    "event=binary_dropped station=%s size=%d", link.info.station_id, len(message)
                )
            continue
        result = decode(message, overlay=overlay, version=connection.version)
        if isinstance(result, DecodeFailure):
            connection.handle_decode_failure(result)
            if not await answer_undecodable(
                result, sender.send_frame, sender=None, log=log, station=link.info.station_id
            ):
                return
            continue
        await connection.handle_frame(result)
        del message, result  # an idle link must not keep its last message alive (~2.5 KiB)
