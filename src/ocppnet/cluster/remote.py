"""Calls to stations held by other front-ends, over NATS request/reply.

:class:`RemoteCalls` is the CSMS's ``app.remote``: it looks the station up in the presence
bucket and sends the call to ``ocppnet.<csms>.rpc.<frontend>``. It never hangs on a dead
front-end: NATS answers "no responders" at once when nobody subscribes to that subject (a
SIGKILLed process's subscriptions go with its TCP connection), which becomes UnknownClient
"station X was on front-end F, which is gone"; a call already in flight pings the holder
every ``probe_s`` and ends with ConnectionClosed when it is gone.

:class:`RpcServer` is the other side: it runs each call on the local link (``app.call``, so
it is logged here, where the station is) and replies the payload or the error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from ocppnet.cluster.cache import LookupCache
from ocppnet.cluster.directory import Directory
from ocppnet.cluster.metrics import ClusterMetrics, outcome_of
from ocppnet.cluster.names import ClusterNames
from ocppnet.cluster.presence import PresenceEntry
from ocppnet.cluster.rpc import (
    PING,
    PONG,
    BadMessage,
    CallRequest,
    FrontendGone,
    Payload,
    decode_reply,
    decode_request,
    encode_error,
    encode_result,
)
from ocppnet.csms.app import CsmsApp
from ocppnet.errors import CallTimeout, ConnectionClosed, OcppNetError, UnknownClient

log = logging.getLogger("ocppnet.cluster")

REPLY_MARGIN_S = 2.0  # the holder answers CallTimeout itself; this covers the trip back


def _retrieve(future: asyncio.Future[Msg]) -> None:
    """Mark a cancelled request's outcome as seen (no "exception never retrieved")."""
    if not future.cancelled():
        future.exception()


def gone(station_id: str, frontend_id: str) -> FrontendGone:
    return FrontendGone(f"station {station_id} was on front-end {frontend_id}, which is gone")


class RemoteCalls:
    """``app.remote`` of a front-end: the stations of the other front-ends."""

    def __init__(self, nc: Client, names: ClusterNames, directory: Directory, *,
                 frontend_id: str, incarnation: str, call_timeout_s: float, probe_s: float,
                 metrics: ClusterMetrics, cache_s: float = 0.0) -> None:
        self.nc = nc
        self.names = names
        self.directory = directory
        self.frontend_id = frontend_id
        self.incarnation = incarnation
        self.call_timeout_s = call_timeout_s
        self.probe_s = probe_s
        self.metrics = metrics
        self.cache = LookupCache(cache_s)
        self._seen: dict[str, float] = {}  # rpc subject -> when a ping last went out
        self._asking: dict[str, asyncio.Future[tuple[int, PresenceEntry | None]]] = {}

    async def holder(self, station_id: str, *, fresh: bool = False) -> PresenceEntry:
        """The entry naming the front-end that holds the station (from the lookup cache
        unless ``fresh``); UnknownClient if none."""
        now = time.monotonic()
        entry = None if fresh else self.cache.get(station_id, now)
        if entry is not None:
            return entry
        asking = self._asking.get(station_id)
        if asking is None or fresh:  # concurrent calls to one station share one lookup
            asking = asyncio.ensure_future(self.directory.lookup(station_id))
            self._asking[station_id] = asking
            asking.add_done_callback(lambda done: self._asked(station_id, done))
        try:
            _revision, entry = await asyncio.shield(asking)
        except nats.errors.Error as exc:
            raise UnknownClient(f"station {station_id} is not connected here and the bus "
                                f"cannot be asked where it is: {exc}") from None
        if entry is None or (entry.frontend_id == self.frontend_id
                             and entry.incarnation == self.incarnation):
            self.cache.drop(station_id)
            raise UnknownClient(f"station {station_id} is not connected")
        self.cache.put(entry, now)
        return entry

    def _asked(self, station_id: str, done: asyncio.Future[Any]) -> None:
        if self._asking.get(station_id) is done:
            del self._asking[station_id]
        if not done.cancelled():
            done.exception()  # seen by the callers that awaited it

    async def version(self, station_id: str) -> str:
        return (await self.holder(station_id)).version

    async def call(self, station_id: str, action: str, payload: Payload, *,
                   timeout: float | None = None) -> Payload:  # noqa: ASYNC109
        entry = await self.holder(station_id)
        try:
            try:
                response = await self._call(entry, action, payload, timeout)
            except UnknownClient as first:  # it may have moved since we looked: look again
                self.cache.drop(station_id)
                try:
                    moved = await self.holder(station_id, fresh=True)
                except UnknownClient:
                    raise first from None
                if (moved.frontend_id, moved.incarnation) == (entry.frontend_id,
                                                              entry.incarnation):
                    raise
                response = await self._call(moved, action, payload, timeout)
        except OcppNetError as exc:
            if isinstance(exc, UnknownClient | ConnectionClosed):
                self.cache.drop(station_id)
            self.metrics.remote_calls.labels(outcome_of(exc)).inc()
            raise
        self.metrics.remote_calls.labels("ok").inc()
        return response

    async def _call(self, entry: PresenceEntry, action: str, payload: Payload,
                    timeout: float | None) -> Payload:  # noqa: ASYNC109
        station, frontend = entry.station_id, entry.frontend_id
        wait = (timeout if timeout is not None else self.call_timeout_s)
        request = CallRequest(station, action, payload, wait, entry.incarnation)
        subject = self.names.rpc_subject(frontend)
        reply = asyncio.ensure_future(
            self.nc.request(subject, request.encode(), timeout=wait + REPLY_MARGIN_S))
        try:
            while True:
                done, _ = await asyncio.wait({reply}, timeout=self.probe_s)
                if done:
                    break
                if not await self._present(subject):
                    raise ConnectionClosed(
                        f"front-end {frontend}, which held station {station}, went away "
                        f"during {action} (the station may or may not have received it)")
            msg = reply.result()
        except nats.errors.NoRespondersError:
            await self._forget_if_dead(entry)
            raise gone(station, frontend) from None
        except nats.errors.TimeoutError:
            raise CallTimeout(f"front-end {frontend} did not answer {action} for station "
                              f"{station} within {wait + REPLY_MARGIN_S:g}s") from None
        except nats.errors.Error as exc:  # it may have been delivered: never sent again
            raise ConnectionClosed(f"the bus failed during {action} for station {station} "
                                   f"on front-end {frontend}: {exc or type(exc).__name__}"
                                   ) from None
        finally:
            if not reply.done():
                reply.cancel()
                reply.add_done_callback(_retrieve)
        try:
            return decode_reply(msg.data)
        except BadMessage as exc:
            raise UnknownClient(f"front-end {frontend} answered {action} for station "
                                f"{station} with something else: {exc}") from None

    async def _present(self, subject: str) -> bool:
        """False only when NATS says nobody listens on ``subject`` any more. One ping per
        holder and ``probe_s``, however many calls wait for it."""
        now = time.monotonic()
        if now - self._seen.get(subject, -self.probe_s) < self.probe_s:
            return True
        self._seen[subject] = now
        try:
            await self.nc.request(subject, PING, timeout=self.probe_s)
        except nats.errors.NoRespondersError:
            self._seen.pop(subject, None)
            return False
        except nats.errors.Error:
            return True  # busy or a slow bus: keep waiting for the reply
        return True

    async def _forget_if_dead(self, entry: PresenceEntry) -> None:
        with contextlib.suppress(nats.errors.Error):
            if not await self.directory.is_live(entry):
                revision, current = await self.directory.lookup(entry.station_id)
                if current == entry:
                    await self.directory.forget_stale(entry.station_id, revision)


class RpcServer:
    """Answers the calls other front-ends send to the stations held here."""

    def __init__(self, nc: Client, app: CsmsApp, subject: str, *, frontend_id: str,
                 incarnation: str, metrics: ClusterMetrics) -> None:
        self.nc = nc
        self.app = app
        self.subject = subject
        self.frontend_id = frontend_id
        self.incarnation = incarnation
        self.metrics = metrics
        self._sub: Subscription | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._sub = await self.nc.subscribe(self.subject, cb=self._on_message)

    async def stop(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(nats.errors.Error, OSError):
                await self._sub.unsubscribe()
            self._sub = None
        for task in list(self._tasks):
            task.cancel()

    async def _on_message(self, msg: Msg) -> None:
        # nats-py runs a subscription's callbacks one after another: each call gets a task
        task = asyncio.create_task(self._serve(msg))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, msg: Msg) -> None:
        try:
            request = decode_request(msg.data)
        except BadMessage as exc:
            log.warning("event=rpc_bad_request error=%s", exc)
            await self._respond(msg, encode_error(UnknownClient(f"bad request: {exc}")))
            return
        if request is None:
            await self._respond(msg, PONG)
            return
        station = request.station_id
        error: OcppNetError | None = None
        if request.incarnation not in (None, self.incarnation):
            error = UnknownClient(f"station {station} is not connected to front-end "
                                  f"{self.frontend_id} (it restarted since)")
        elif not self.app.is_local(station):
            error = UnknownClient(f"station {station} is not connected to front-end "
                                  f"{self.frontend_id}")
        if error is not None:
            self.metrics.served_calls.labels(outcome_of(error)).inc()
            await self._respond(msg, encode_error(error))
            return
        try:  # is_local just held and nothing awaited since: app.call uses the local link
            response = await self.app.call(station, request.action, request.payload,
                                           timeout=request.timeout)
        except OcppNetError as exc:
            self.metrics.served_calls.labels(outcome_of(exc)).inc()
            await self._respond(msg, encode_error(exc))
            return
        self.metrics.served_calls.labels("ok").inc()
        await self._respond(msg, encode_result(response))

    async def _respond(self, msg: Msg, data: bytes) -> None:
        try:
            await msg.respond(data)
        except nats.errors.Error as exc:
            log.warning("event=rpc_reply_failed error=%s", exc)
