"""A node's upstream links: one overlay WebSocket per upstream, or the plain-CSMS fallback.

:class:`Upstream` dials its peer asking for overlay mode and reconnects with back-off. When the
server does not echo the networking-mode header (a CSMS that knows nothing of overlays) and the
mode is ``auto`` (or ``standard``), it switches to :class:`StandardFallback`: one standard
WebSocket per station, as a classic OCPP local controller does, presented to the router as a
single overlay link (docs/routing.md "Plain upstreams").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path

from ocppnet.errors import ConnectionClosed
from ocppnet.node.config import UpstreamConfig
from ocppnet.node.router import Router, plain_error
from ocppnet.routing import LinkInfo, retarget
from ocppnet.rpc.codec import DecodeFailure, decode, encode
from ocppnet.rpc.frames import Call, CallError, CallResult, Frame
from ocppnet.rpc.versions import subprotocol_for_version, version_for_subprotocol
from ocppnet.transport.backoff import Backoff
from ocppnet.transport.client import LinkRefused, open_link
from ocppnet.transport.link import Link
from ocppnet.transport.options import LinkOptions
from ocppnet.transport.undecodable import answer_undecodable

log = logging.getLogger("ocppnet.node.upstream")


async def _send(link: Link, frame: Frame) -> None:
    await link.send_text(encode(frame))


def upstream_ssl_context(config: UpstreamConfig) -> ssl.SSLContext | None:
    """TLS context for a wss:// upstream (trusting ``tls_ca``, with a client cert if given)."""
    if config.tls_ca is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=config.tls_ca)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if config.tls_cert is not None and config.tls_key is not None:
        context.load_cert_chain(Path(config.tls_cert), Path(config.tls_key))
    return context


class Upstream:
    """Keeps the link to one upstream up for as long as the node runs."""

    def __init__(
        self,
        router: Router,
        config: UpstreamConfig,
        *,
        backoff: Backoff | None = None,
        options: LinkOptions | None = None,
        station_passwords: Callable[[str], str | None] | None = None,
        on_up: Callable[[], None] | None = None,
    ) -> None:
        self.on_up = on_up
        self.router = router
        self.config = config
        self.backoff = backoff or Backoff(base=0.5, cap=30.0, jitter=0.5)
        self.options = options or LinkOptions()
        self.ssl_context = upstream_ssl_context(config)
        self.fallback: StandardFallback | None = None
        self.state = "connecting"
        self.last_error: str | None = None
        self.station_passwords = station_passwords
        self.link_up = asyncio.Event()
        self.stations: dict[str, str] = {}
        """Stations connected to the node (id -> version), for a fallback that starts late."""

    @property
    def link_id(self) -> str:
        return self.config.id

    async def run(self) -> None:
        """Dial, route until the link drops, dial again (forever; cancel to stop)."""
        if self.config.mode == "standard":  # a known plain CSMS: no overlay probe under our id
            await self._run_fallback()
            return
        delays = self.backoff.schedule()
        while True:
            try:
                link = await open_link(
                    self.config.url,
                    self.router.node_id,
                    subprotocols=self.config.subprotocols,
                    password=self.config.password,
                    ssl_context=self.ssl_context,
                    overlay=True,
                    options=self.options,
                )
            except LinkRefused as exc:
                self.state, self.last_error = "down", str(exc)
                delay = next(delays)
                log.warning(
                    "event=upstream_refused node=%s upstream=%s retry_in=%.1f reason=%r",
                    self.router.node_id, self.link_id, delay, str(exc),
                )
                await asyncio.sleep(delay)
                continue
            if not link.info.overlay:
                await link.close(1000, "overlay mode not agreed; using one link per station")
                if self.config.mode == "overlay":
                    self.state = "down"
                    self.last_error = "the server does not speak overlay mode"
                    log.error(
                        "event=upstream_no_overlay node=%s upstream=%s",
                        self.router.node_id, self.link_id,
                    )
                    await asyncio.sleep(next(delays))
                    continue
                await self._run_fallback()
                return
            delays = self.backoff.schedule()
            self.state, self.last_error = "up", None
            info = LinkInfo(self.link_id, "overlay", self.link_id, "upstream")
            self.link_up.set()
            if self.on_up is not None:
                self.on_up()
            try:
                await self.router.run_link(link, info, link.info.version)
            finally:
                self.link_up.clear()
                self.state = "down"
                with contextlib.suppress(Exception):  # cancelled (node stopping): say goodbye
                    await link.close(1001, "node stopping")
            log.warning(
                "event=upstream_lost node=%s upstream=%s code=%s",
                self.router.node_id, self.link_id, link.close_code,
            )
            await asyncio.sleep(next(delays))

    async def _run_fallback(self) -> None:
        log.info(
            "event=upstream_fallback node=%s upstream=%s mode=per-station",
            self.router.node_id, self.link_id,
        )
        fallback = StandardFallback(self, self.station_passwords)
        self.fallback = fallback
        for station_id, version in self.stations.items():
            fallback.station_up(station_id, version)
        self.state = "fallback"
        self.link_up.set()
        try:
            await fallback.run()
        finally:
            self.link_up.clear()

    def station_up(self, station_id: str, version: str) -> None:
        self.stations[station_id] = version
        if self.fallback is not None:
            self.fallback.station_up(station_id, version)

    def station_down(self, station_id: str) -> None:
        self.stations.pop(station_id, None)
        if self.fallback is not None:
            self.fallback.station_down(station_id)

    def status(self) -> dict[str, object]:
        return {
            "id": self.link_id,
            "url": self.config.url,
            "state": self.state,
            "lastError": self.last_error,
            "stations": sorted(self.fallback.sockets) if self.fallback else None,
        }


class StandardFallback:
    """One standard-mode WebSocket per station towards a plain CSMS, seen by the router as one
    overlay link: frames leave on the socket of their PATH[0]; frames read from station S's
    socket enter with DEST = S and PATH = (upstream id,). An answer this node makes itself
    (PATH[0] is the node) leaves on the socket the request came from. A socket that drops
    is opened again while its station is connected to the node."""

    def __init__(
        self, upstream: Upstream, passwords: Callable[[str], str | None] | None
    ) -> None:
        self.upstream = upstream
        self.router = upstream.router
        self.passwords = passwords
        self.sockets: dict[str, Link] = {}
        self.versions: dict[str, str] = {}
        self._readers: dict[str, asyncio.Task[None]] = {}
        self._opening: dict[str, asyncio.Future[Link]] = {}
        self._inbox: asyncio.Queue[Frame] = asyncio.Queue(maxsize=256)
        """Frames read from every station socket, in overlay form, for the router."""
        self._stopped = asyncio.Event()
        self._closing: set[asyncio.Future[None]] = set()
        self._reopening: set[asyncio.Future[None]] = set()
        self._asked: dict[str, str] = {}  # message id of a CSMS request -> station socket

    async def run(self) -> None:
        """Be the router's link for this upstream until cancelled (the node stops)."""
        info = LinkInfo(self.upstream.link_id, "overlay", self.upstream.link_id, "upstream")
        version = version_for_subprotocol(self.upstream.config.subprotocols[0]) or "2.0.1"
        try:
            await self.router.run_link(self, info, version, writer=self)
        finally:
            self._stopped.set()
            for task in [*self._readers.values(), *self._reopening]:
                task.cancel()
            for link in list(self.sockets.values()):
                with contextlib.suppress(Exception):
                    await link.close(1001, "node stopping")

    async def __aiter__(self) -> AsyncIterator[Frame]:
        """What the router reads: frames from the station sockets, already in overlay form."""
        while True:
            yield await self._inbox.get()

    # --- stations -----------------------------------------------------------------------

    def station_up(self, station_id: str, version: str) -> None:
        """A station connected to the node: open its upstream socket right away."""
        self.versions[station_id] = version
        task = asyncio.ensure_future(self._socket(station_id))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())

    def station_down(self, station_id: str) -> None:
        self.versions.pop(station_id, None)
        reader = self._readers.pop(station_id, None)
        if reader is not None:
            reader.cancel()
        link = self.sockets.pop(station_id, None)
        if link is not None:
            task = asyncio.ensure_future(link.close(1000, "station disconnected from the node"))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def _socket(self, station_id: str) -> Link:
        link = self.sockets.get(station_id)
        if link is not None:
            return link
        opening = self._opening.get(station_id)
        if opening is not None:
            return await opening
        future: asyncio.Future[Link] = asyncio.get_running_loop().create_future()
        self._opening[station_id] = future
        try:
            version = self.versions.get(station_id, "2.0.1")
            config = self.upstream.config
            password = config.station_passwords.get(station_id)
            if password is None and self.passwords is not None:
                password = self.passwords(station_id)
            link = await open_link(
                config.url,
                station_id,
                subprotocols=[subprotocol_for_version(version)],
                password=password,
                ssl_context=self.upstream.ssl_context,
                options=self.upstream.options,
            )
        except LinkRefused as exc:
            error = ConnectionClosed(f"cannot open {station_id}'s link upstream: {exc}")
            future.set_exception(error)
            future.exception()  # mark retrieved: concurrent waiters re-raise it themselves
            raise error from None
        finally:
            self._opening.pop(station_id, None)
        self.sockets[station_id] = link
        self._readers[station_id] = asyncio.create_task(self._read(station_id, link))
        future.set_result(link)
        self.router.resume_drain(self.upstream.link_id)
        return link

    async def _read(self, station_id: str, link: Link) -> None:
        version = link.info.version
        try:
            async for message in link:
                if isinstance(message, bytes):
                    continue
                result = decode(message, overlay=False, version=version)
                if isinstance(result, DecodeFailure):
                    await answer_undecodable(
                        result, partial(_send, link), sender=None, log=log,
                        node=self.router.node_id, upstream=self.upstream.link_id,
                        station=station_id,
                    )
                    continue
                if isinstance(result, Call):
                    self._asked[result.message_id] = station_id
                await self._inbox.put(retarget(result, station_id, (self.upstream.link_id,)))
        finally:
            if self.sockets.get(station_id) is link:
                del self.sockets[station_id]
                self._readers.pop(station_id, None)
                if station_id in self.versions and not self._stopped.is_set():
                    self._reopen(station_id)

    def _reopen(self, station_id: str) -> None:
        """The CSMS closed a connected station's socket: dial again with back-off."""

        async def again() -> None:
            for delay in self.upstream.backoff.schedule():
                await asyncio.sleep(delay)
                if (
                    self._stopped.is_set() or station_id not in self.versions
                    or station_id in self.sockets
                ):
                    return
                with contextlib.suppress(ConnectionClosed):
                    await self._socket(station_id)
                    return

        task = asyncio.ensure_future(again())
        self._reopening.add(task)
        task.add_done_callback(self._reopening.discard)

    # --- FrameWriter --------------------------------------------------------------------

    async def write(self, frame: Frame) -> None:
        if not frame.path:
            raise ConnectionClosed("a frame without PATH cannot be given to a station socket")
        station_id = frame.path[0]
        if isinstance(frame, CallResult | CallError):
            asked = self._asked.pop(frame.message_id, None)
            if asked is not None and station_id not in self.versions:
                station_id = asked  # an answer made on the way (by this node)
        link = await self._socket(station_id)
        if isinstance(frame, CallError):
            frame = plain_error(frame, link.info.version)
        await link.send_text(encode(retarget(frame, None, ())))
