"""Presence on the bus: the writer that keeps this front-end's entries in the presence
bucket (driving the pure :class:`~ocppnet.cluster.presence.PresenceTable`), and the reads
every front-end does: where is station X, which front-ends are alive.

Writes never block station handling: a connect or disconnect only changes the table; a
background task writes the bucket (several stations at once, one operation per station at
a time, failed ones retried after a pause), so a slow or absent bus delays presence, never
a station's BootNotification.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

import nats
from nats.js.errors import BadRequestError, KeyNotFoundError, KeyWrongLastSequenceError, NoKeysError
from nats.js.kv import KeyValue

from ocppnet.cluster.metrics import ClusterMetrics
from ocppnet.cluster.names import ClusterNames
from ocppnet.cluster.presence import (
    BadEntry,
    Delete,
    Lease,
    Op,
    PresenceEntry,
    PresenceTable,
    Put,
    entry_is_live,
    live_leases,
    should_overwrite,
)

log = logging.getLogger("ocppnet.cluster")

WRONG_LAST_SEQUENCE = (10071, 10164)
BATCH = 256  # writes in flight at once (measured: 4.7k puts/s at 64, 8.5k at 256)
RETRY_PAUSE_S = 0.5


async def read_entry(kv: KeyValue, station_id: str) -> tuple[int, PresenceEntry | None]:
    """(revision to compare-and-set against, the station's entry or None). A value that is
    not an entry counts as none (logged)."""
    key = ClusterNames.station_key(station_id)
    try:
        found = await kv.get(key)
    except KeyNotFoundError as exc:  # never written (revision 0) or deleted (its marker)
        return (exc.entry.revision or 0) if exc.entry is not None else 0, None
    try:
        return found.revision or 0, PresenceEntry.decode(found.value or b"")
    except BadEntry as exc:
        log.warning("event=presence_bad_entry station=%s error=%s", station_id, exc)
        return found.revision or 0, None


async def read_lease(kv: KeyValue, frontend_id: str) -> Lease | None:
    try:
        found = await kv.get(ClusterNames.frontend_key(frontend_id))
    except KeyNotFoundError:
        return None
    try:
        return Lease.decode(found.value or b"")
    except BadEntry as exc:
        log.warning("event=lease_bad_entry frontend=%s error=%s", frontend_id, exc)
        return None


async def read_leases(kv: KeyValue, now: datetime, lease_s: float) -> list[Lease]:
    """The live front-ends."""
    try:
        keys = await kv.keys()
    except NoKeysError:
        return []
    leases: list[Lease] = []
    for key in keys:
        try:
            found = await kv.get(key)
            leases.append(Lease.decode(found.value or b""))
        except KeyNotFoundError:
            continue  # expired between listing and reading
        except BadEntry as exc:
            log.warning("event=lease_bad_entry key=%s error=%s", key, exc)
    return live_leases(leases, now, lease_s)


class Directory:
    """Where stations are, for every front-end: ``await directory.where(station)``."""

    def __init__(self, presence: KeyValue, frontends: KeyValue, lease_s: float,
                 clock: Callable[[], datetime], metrics: ClusterMetrics) -> None:
        self.presence = presence
        self.frontends = frontends
        self.lease_s = lease_s
        self.clock = clock
        self.metrics = metrics

    async def lookup(self, station_id: str) -> tuple[int, PresenceEntry | None]:
        """The bucket's entry for the station (live or not), counted."""
        try:
            revision, entry = await read_entry(self.presence, station_id)
        except nats.errors.Error:
            self.metrics.presence_lookups.labels("error").inc()
            raise
        self.metrics.presence_lookups.labels("absent" if entry is None else "found").inc()
        return revision, entry

    async def is_live(self, entry: PresenceEntry) -> bool:
        lease = await read_lease(self.frontends, entry.frontend_id)
        return entry_is_live(entry, lease, self.clock(), self.lease_s)

    async def where(self, station_id: str) -> tuple[PresenceEntry | None, bool]:
        """(the entry, whether it is live); a stale one is removed (compare-and-set, so a
        newer entry written meanwhile stays)."""
        revision, entry = await self.lookup(station_id)
        if entry is None:
            return None, False
        live = await self.is_live(entry)
        if not live:
            self.metrics.presence_stale.inc()
            await self.forget_stale(station_id, revision)
        return entry, live

    async def forget_stale(self, station_id: str, revision: int) -> None:
        with contextlib.suppress(BadRequestError, nats.errors.Error):
            await self.presence.delete(ClusterNames.station_key(station_id), last=revision)
            log.info("event=presence_stale_removed station=%s", station_id)

    async def live_frontends(self) -> list[Lease]:
        return await read_leases(self.frontends, self.clock(), self.lease_s)


class PresenceWriter:
    """Keeps the bucket in line with ``table`` in a background task."""

    def __init__(self, kv: KeyValue, table: PresenceTable, metrics: ClusterMetrics) -> None:
        self.kv = kv
        self.table = table
        self.metrics = metrics
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="presence-writer")

    def changed(self) -> None:
        """The table has new work."""
        self._idle.clear()
        self._wake.set()

    async def flush(self, timeout: float) -> bool:  # noqa: ASYNC109
        """Wait until every pending write is done (or ``timeout``); True if it is."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            ops = self.table.take(BATCH)
            if not ops:
                if self.table.pending == 0:
                    self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            results = await asyncio.gather(*(self._apply(op) for op in ops))
            if not all(results):
                await asyncio.sleep(RETRY_PAUSE_S)  # the bus is away: do not spin

    async def _apply(self, op: Op) -> bool:
        """Write one operation; False if it failed (it is retried)."""
        key = ClusterNames.station_key(op.station_id)
        kind = "put" if isinstance(op, Put) else "delete"
        try:
            if isinstance(op, Put):
                revision, existing = await read_entry(self.kv, op.station_id)
                if not should_overwrite(existing, op.entry):
                    self.table.done(op, superseded=True)
                    self.metrics.presence_writes.labels(kind, "superseded").inc()
                    log.info("event=presence_superseded station=%s by=%s", op.station_id,
                             existing.frontend_id if existing else "")
                    return True
                written = await self.kv.update(key, op.entry.encode(), last=revision)
                self.table.done(op, revision=written)
            else:
                assert isinstance(op, Delete)
                await self.kv.delete(key, last=op.revision)
                self.table.done(op)
        except KeyWrongLastSequenceError:  # a put raced with another writer: read again
            self.table.done(op, failed=True)
            self.metrics.presence_writes.labels(kind, "retried").inc()
            return True
        except BadRequestError as exc:
            if isinstance(op, Delete) and exc.err_code in WRONG_LAST_SEQUENCE:
                self.table.done(op, superseded=True)  # a newer front-end wrote it since
                self.metrics.presence_writes.labels(kind, "superseded").inc()
                return True
            return self._failed(op, kind, exc)
        except (nats.errors.Error, OSError, TimeoutError) as exc:
            return self._failed(op, kind, exc)
        self.metrics.presence_writes.labels(kind, "ok").inc()
        return True

    def _failed(self, op: Op, kind: str, exc: Exception) -> bool:
        self.table.done(op, failed=True)
        self.metrics.presence_writes.labels(kind, "failed").inc()
        log.warning("event=presence_write_failed station=%s op=%s error=%s", op.station_id,
                    kind, exc or type(exc).__name__)
        return False
