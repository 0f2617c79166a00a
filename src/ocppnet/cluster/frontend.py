"""One front-end of a scale-out CSMS: a :class:`~ocppnet.csms.app.CsmsApp` joined to the
bus. ``fe = Frontend(app, section)``; ``await fe.start()`` after ``app.start()`` and before
serving stations; ``await fe.stop()`` after the station server closed.

It follows the app's event bus (a listener, never blocking): ``StationChanged`` drives this
front-end's presence entries, and every event goes to JetStream. It renews its lease every
``lease_s / 3``, answers calls for its stations on its rpc subject, and sets ``app.remote``
so that ``app.call`` (and the operator API) reach the stations of every other front-end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import datetime

import nats
from nats.aio.client import Client
from nats.js.errors import KeyWrongLastSequenceError, ServiceUnavailableError
from nats.js.kv import KeyValue
from prometheus_client import CollectorRegistry

from ocppnet.cluster.bus import BusUnavailable, connect, open_buckets, open_events_stream
from ocppnet.cluster.config import ClusterSection, redacted
from ocppnet.cluster.directory import Directory, PresenceWriter
from ocppnet.cluster.metrics import ClusterMetrics
from ocppnet.cluster.names import ClusterNames
from ocppnet.cluster.presence import Lease, PresenceEntry, PresenceTable
from ocppnet.cluster.publisher import EventPublisher
from ocppnet.cluster.remote import RemoteCalls, RpcServer
from ocppnet.csms.app import CsmsApp
from ocppnet.csms.core import utc_now
from ocppnet.csms.events import Event, StationChanged

log = logging.getLogger("ocppnet.cluster")

STOP_FLUSH_S = 3.0


class Frontend:
    def __init__(self, app: CsmsApp, section: ClusterSection, *, csms_id: str | None = None,
                 registry: CollectorRegistry | None = None,
                 clock: Callable[[], datetime] = utc_now) -> None:
        if section.bus is None:
            raise ValueError("a front-end needs [cluster].bus (or --bus)")
        self.app = app
        self.section = section
        self.names = ClusterNames(csms_id or app.config.id)
        self.frontend_id = section.frontend
        self.incarnation = uuid.uuid4().hex
        self.clock = clock
        self.metrics = ClusterMetrics(registry)
        self.table = PresenceTable()
        self.lease_s = section.lease_s
        self.nc: Client | None = None
        self.directory: Directory | None = None
        self.remote: RemoteCalls | None = None
        self.publisher: EventPublisher | None = None
        self._writer: PresenceWriter | None = None
        self._rpc: RpcServer | None = None
        self._frontends: KeyValue | None = None
        self._lease: Lease | None = None
        self._lease_revision = 0
        self._lease_task: asyncio.Task[None] | None = None
        self._running = False

    @property
    def rpc_subject(self) -> str:
        return self.names.rpc_subject(self.frontend_id)

    # --- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, open the buckets and stream, take the lease, answer calls; BusUnavailable
        (one line) if the bus cannot be reached or has no JetStream."""
        assert self.section.bus is not None
        nc = self.nc = await connect(self.section.bus, name=f"ocppnet-csms-{self.frontend_id}",
                                     timeout=self.section.connect_timeout_s)
        self._rpc = RpcServer(nc, self.app, self.rpc_subject, frontend_id=self.frontend_id,
                              incarnation=self.incarnation, metrics=self.metrics)
        try:
            js = nc.jetstream(timeout=self.section.connect_timeout_s)
            presence, frontends, self.lease_s = await open_buckets(js, self.names, self.section)
            if self.section.events:
                await open_events_stream(js, self.names, self.section)
            await self._rpc.start()  # answering before the lease announces this front-end
            self._frontends = frontends
            now = self.clock()
            self._lease = Lease(self.frontend_id, self.incarnation, now, now,
                                socket.gethostname(), os.getpid(), 0)
            self._lease_revision = await frontends.put(
                ClusterNames.frontend_key(self.frontend_id), self._lease.encode())
        except BaseException as exc:
            with contextlib.suppress(nats.errors.Error, OSError):
                await nc.close()
            if isinstance(exc, ServiceUnavailableError | nats.errors.NoRespondersError):
                raise BusUnavailable(f"{redacted(self.section.bus)} has no JetStream (start "
                                     "nats-server with -js)") from None
            if isinstance(exc, nats.errors.Error | TimeoutError):
                raise BusUnavailable(f"{redacted(self.section.bus)} refused the buckets or the "
                                     "stream: "
                                     f"{exc or type(exc).__name__}") from None
            raise
        self.directory = Directory(presence, frontends, self.lease_s, self.clock, self.metrics)
        self._writer = PresenceWriter(presence, self.table, self.metrics)
        self._writer.start()
        self.remote = RemoteCalls(nc, self.names, self.directory, frontend_id=self.frontend_id,
                                  incarnation=self.incarnation,
                                  call_timeout_s=self.section.call_timeout_s,
                                  probe_s=self.section.probe_s, metrics=self.metrics,
                                  cache_s=self.section.lookup_cache_s)
        if self.section.events:
            self.publisher = EventPublisher(nc, self.names, buffer=self.section.events_buffer,
                                            metrics=self.metrics)
            self.publisher.start()
        self.metrics.watch(lambda: float(self.table.pending),
                           lambda: float(len(self.table.desired)))
        self._running = True
        self.app.remote = self.remote
        self.app.bus.listen(self._on_event)
        self._lease_task = asyncio.create_task(self._renew_lease(), name="lease")
        log.info("event=frontend_started frontend=%s incarnation=%s bus=%s lease_s=%g rpc=%s",
                 self.frontend_id, self.incarnation, redacted(self.section.bus), self.lease_s,
                 self.rpc_subject)

    async def stop(self) -> None:
        """Write the last presence changes, leave (lease deleted: the others see this
        front-end gone at once), send the buffered events, close the connection."""
        if not self._running:
            return
        self._running = False
        if self.app.remote is self.remote:
            self.app.remote = None
        if self._lease_task is not None:
            self._lease_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._lease_task
        connected = self.nc is not None and self.nc.is_connected
        if self._writer is not None:
            self.table.leave()
            self._writer.changed()
            if connected and not await self._writer.flush(STOP_FLUSH_S):
                log.warning("event=presence_not_flushed pending=%d", self.table.pending)
            await self._writer.stop()
        if self._rpc is not None:
            await self._rpc.stop()
        if self._frontends is not None and connected:
            with contextlib.suppress(nats.errors.Error, OSError, TimeoutError):
                await self._frontends.delete(ClusterNames.frontend_key(self.frontend_id),
                                             last=self._lease_revision)
        if self.publisher is not None:
            await self.publisher.stop()
        if self.nc is not None:
            with contextlib.suppress(nats.errors.Error, OSError, TimeoutError):
                await self.nc.close()
        log.info("event=frontend_stopped frontend=%s", self.frontend_id)

    async def __aenter__(self) -> Frontend:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- presence -----------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        """The event-bus listener; runs inside the station's handler, so it never raises."""
        if not self._running:
            return
        try:
            if isinstance(event, StationChanged):
                self._presence(event)
            if self.publisher is not None:
                self.publisher.offer(event)
        except Exception:
            log.exception("event=cluster_listener_failed kind=%s station=%s",
                          getattr(event, "kind", "?"), getattr(event, "station_id", "?"))

    def _presence(self, event: StationChanged) -> None:
        assert self._writer is not None
        station = event.station_id
        if not event.connected:
            self.table.disconnected(station)
            self._writer.changed()
            return
        held = self.table.desired.get(station)
        version = event.ocpp_version or (held.version if held is not None else None) \
            or self._local_version(station)
        if event.boot_status is None or held is None:  # a new link (or first news of it)
            entry = PresenceEntry(station, self.frontend_id, self.incarnation, version,
                                  event.at, tuple(event.path))
        elif held.version != version or held.path != tuple(event.path):  # a boot said more
            entry = PresenceEntry(station, self.frontend_id, self.incarnation, version,
                                  held.since, tuple(event.path))
        else:
            return
        self.table.connected(entry)
        self._writer.changed()

    def _local_version(self, station_id: str) -> str:
        link = self.app.core.links.get(station_id)
        return link.version if link is not None else "unknown"

    async def flush_presence(self, timeout: float = 5.0) -> bool:  # noqa: ASYNC109
        """Wait until the bucket says what this front-end knows (tests, clean stops)."""
        return self._writer is not None and await self._writer.flush(timeout)

    # --- lease --------------------------------------------------------------------------

    async def _renew_lease(self) -> None:
        assert self._frontends is not None and self._lease is not None
        key = ClusterNames.frontend_key(self.frontend_id)
        while True:
            await asyncio.sleep(self.lease_s / 3)
            self._lease = self._lease.renew(self.clock(), len(self.table.desired))
            try:
                self._lease_revision = await self._frontends.update(
                    key, self._lease.encode(), last=self._lease_revision)
            except KeyWrongLastSequenceError:
                # expired (the bus was away longer than the lease) or taken by a process
                # with the same id: take it again and rewrite every entry, which others may
                # have removed as stale meanwhile
                log.warning("event=lease_lapsed frontend=%s stations=%d", self.frontend_id,
                            len(self.table.desired))
                with contextlib.suppress(nats.errors.Error):
                    self._lease_revision = await self._frontends.put(key, self._lease.encode())
                    self.table.rewrite_all()
                    if self._writer is not None:
                        self._writer.changed()
            except (nats.errors.Error, TimeoutError) as exc:
                log.warning("event=lease_renew_failed frontend=%s error=%s", self.frontend_id,
                            exc or type(exc).__name__)
