"""The station side: open an OCPP WebSocket link, and keep one Connection alive across links.

:func:`open_link` performs one handshake and returns a :class:`Link` or raises
:class:`LinkRefused`. :class:`StationClient` (built by :func:`connect_station`) owns a
:class:`Connection` that survives reconnects: when the link drops it re-dials with the
:class:`Backoff` schedule and re-attaches the same Connection.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import inspect
import logging
import ssl
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import quote

from ocppnet.errors import ConnectionClosed
from ocppnet.transport.backoff import Backoff
from ocppnet.transport.connection import DEFAULT_CALL_TIMEOUT, Connection
from ocppnet.transport.handlers import Handlers
from ocppnet.transport.handshake import (
    DEFAULT_SUBPROTOCOLS,
    NETWORKING_MODE_HEADER,
    OVERLAY_MODE,
)
from ocppnet.transport.link import (
    BinaryHandler,
    DirectSender,
    Link,
    LinkRefused,
    pump,
)
from ocppnet.transport.options import LinkOptions, resolve_driver
from ocppnet.transport.picows_client import open_picows_link
from ocppnet.transport.websockets_client import open_websockets_link

__all__ = ["LinkRefused", "StationClient", "connect_station", "open_link", "station_url"]

log = logging.getLogger("ocppnet.transport.client")


def station_url(base_url: str, station_id: str) -> str:
    """``ws://host/ocpp`` + ``CP 1`` -> ``ws://host/ocpp/CP%201`` (the id is percent-encoded)."""
    return f"{base_url.rstrip('/')}/{quote(station_id, safe='')}"


def _basic_authorization(station_id: str, password: str) -> str:
    token = base64.b64encode(f"{station_id}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


async def open_link(
    url: str,
    station_id: str,
    *,
    subprotocols: Sequence[str] = DEFAULT_SUBPROTOCOLS,
    password: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
    overlay: bool = False,
    options: LinkOptions | None = None,
) -> Link:
    """Connect to ``url``/``station_id`` and run the OCPP handshake.

    ``password`` adds HTTP Basic auth (profiles 1, 2), ``ssl_context`` TLS (``wss://`` URL,
    profiles 2, 3), ``overlay`` asks for overlay mode; ``link.info.overlay`` says whether the
    server agreed.
    """
    options = options or LinkOptions()
    headers: dict[str, str] = {}
    if password is not None:
        headers["Authorization"] = _basic_authorization(station_id, password)
    if overlay:
        headers[NETWORKING_MODE_HEADER] = OVERLAY_MODE
    target = station_url(url, station_id)
    if password is None:
        profile = 3 if ssl_context is not None else 0
    else:
        profile = 2 if ssl_context is not None else 1
    driver = resolve_driver(options.driver)
    opener = open_picows_link if driver == "picows" else open_websockets_link
    link = await opener(target, station_id, subprotocols=subprotocols, headers=headers,
                        ssl_context=ssl_context, options=options, profile=profile)
    log.info(
        "event=link_open station=%s url=%s subprotocol=%s overlay=%s driver=%s",
        station_id, target, link.info.subprotocol, link.info.overlay, driver,
    )
    return link


DEFAULT_BACKOFF = Backoff()

ConnectionCallback = Callable[[Connection], Any]


class StationClient:
    """A station's connection to its CSMS that reconnects with back-off until closed.

    ``async with StationClient(...) as conn`` opens the first link (raising
    :class:`LinkRefused` if that fails) and yields the :class:`Connection`; leaving the block
    closes the link with 1000 and stops reconnecting. ``backoff=None`` disables reconnects.
    """

    def __init__(
        self,
        url: str,
        station_id: str,
        *,
        handlers: Handlers | None = None,
        subprotocols: Sequence[str] = DEFAULT_SUBPROTOCOLS,
        password: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        options: LinkOptions | None = None,
        backoff: Backoff | None = DEFAULT_BACKOFF,
        call_timeout: float = DEFAULT_CALL_TIMEOUT,
        validate_messages: bool = True,
        on_connect: ConnectionCallback | None = None,
        on_disconnect: ConnectionCallback | None = None,
        on_binary: BinaryHandler | None = None,
    ) -> None:
        self.url = url
        self.station_id = station_id
        self.handlers = handlers or Handlers()
        self.subprotocols = tuple(subprotocols)
        self.password = password
        self.ssl_context = ssl_context
        self.options = options or LinkOptions()
        self.backoff = backoff
        self.call_timeout = call_timeout
        self.validate_messages = validate_messages
        self.on_connect = on_connect
        self.on_disconnect = on_disconnect
        self.on_binary = on_binary
        self.link: Link | None = None
        self._connection: Connection | None = None
        self._runner: asyncio.Task[None] | None = None
        self._closing = False
        self._tasks: set[asyncio.Future[Any]] = set()

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise ConnectionClosed("the station client is not started")
        return self._connection

    async def _open(self) -> Link:
        return await open_link(
            self.url,
            self.station_id,
            subprotocols=self.subprotocols,
            password=self.password,
            ssl_context=self.ssl_context,
            options=self.options,
        )

    def _attach(self, link: Link) -> Connection:
        self.link = link
        if self._connection is None:
            self._connection = Connection(
                self.handlers,
                version=link.info.version,
                remote_id="CSMS",
                call_timeout=self.call_timeout,
                validate_messages=self.validate_messages,
            )
        self._connection.attach(DirectSender(link), version=link.info.version)
        self._notify(self.on_connect, self._connection)
        return self._connection

    def _notify(self, callback: ConnectionCallback | None, connection: Connection) -> None:
        """Run a sync callback now, an async one as a task (it may call the CSMS)."""
        if callback is None:
            return
        result = callback(connection)
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def start(self) -> Connection:
        """Open the first link and start reading it (and reconnecting after it)."""
        connection = self._attach(await self._open())
        self._runner = asyncio.create_task(self._run())
        return connection

    async def _run(self) -> None:
        connection = self.connection
        while True:
            link = self.link
            assert link is not None
            await pump(link, connection, on_binary=self.on_binary)
            connection.detach(f"link closed with code {link.close_code}")
            self.link = None
            self._notify(self.on_disconnect, connection)
            if self._closing or self.backoff is None:
                return
            log.info("event=link_lost station=%s code=%s", self.station_id, link.close_code)
            new_link = await self._reconnect(self.backoff)
            if new_link is None:
                return
            self._attach(new_link)

    async def _reconnect(self, backoff: Backoff) -> Link | None:
        for attempt, delay in enumerate(backoff.schedule()):
            await asyncio.sleep(delay)
            if self._closing:
                return None
            try:
                return await self._open()
            except LinkRefused as exc:
                log.warning(
                    "event=reconnect_failed station=%s attempt=%d delay=%.3f error=%r",
                    self.station_id, attempt, delay, str(exc),
                )
        log.error("event=reconnect_gave_up station=%s", self.station_id)
        return None

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Graceful close: stop reconnecting, close the link, fail what is in flight."""
        self._closing = True
        link = self.link
        if link is not None:
            await link.close(code, reason)
        runner = self._runner
        if runner is not None:
            if link is None:
                runner.cancel()  # sleeping between reconnect attempts
            with contextlib.suppress(asyncio.CancelledError):
                await runner
        if self._connection is not None:
            self._connection.detach("closed by the station")

    async def __aenter__(self) -> Connection:
        return await self.start()

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


def connect_station(url: str, station_id: str, **kwargs: Any) -> StationClient:
    """``async with connect_station(url, station_id, handlers=h, password=...) as conn:``.

    Keyword arguments are those of :class:`StationClient`.
    """
    return StationClient(url, station_id, **kwargs)
