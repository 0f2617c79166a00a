"""Reading a scale-out CSMS from outside (any machine with the bus): the live front-ends,
where a station is, and the event stream. Binds to what the front-ends made; creates
nothing. What ``ocppnet cluster`` and services such as dashboards use.

``async with Observer("nats://...", "CSMS") as seen: await seen.frontends()``;
``async for event in seen.events(kinds=("energy",), station="CS-1"): ...``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

import nats
import orjson
from nats.aio.client import Client
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from ocppnet.cluster.bus import BusUnavailable, connect
from ocppnet.cluster.config import redacted
from ocppnet.cluster.directory import Directory
from ocppnet.cluster.metrics import ClusterMetrics
from ocppnet.cluster.names import EVENT_KINDS, ClusterNames, token
from ocppnet.cluster.presence import Lease, PresenceEntry
from ocppnet.csms.core import utc_now


def event_filter(names: ClusterNames, kinds: Sequence[str], station: str | None) -> str:
    """The one subject filter that covers ``kinds`` (all when empty) for ``station`` (any
    when None); ValueError names an unknown kind. Pure."""
    for kind in kinds:
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {kind!r} (expected one of "
                             f"{', '.join(EVENT_KINDS)})")
    kind_part = kinds[0] if len(set(kinds)) == 1 else "*"
    return f"ocppnet.{token(names.csms_id)}.{kind_part}.{token(station) if station else '*'}"


class Observer:
    def __init__(self, bus: str, csms_id: str, *, timeout: float = 5.0) -> None:
        self.bus = bus
        self.names = ClusterNames(csms_id)
        self.timeout = timeout
        self.nc: Client | None = None
        self._directory: Directory | None = None

    async def __aenter__(self) -> Observer:
        self.nc = await connect(self.bus, name="ocppnet-observer", timeout=self.timeout)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.nc is not None:
            with contextlib.suppress(nats.errors.Error, OSError):
                await self.nc.close()

    async def directory(self) -> Directory:
        if self._directory is None:
            assert self.nc is not None
            js = self.nc.jetstream(timeout=self.timeout)
            try:
                presence = await js.key_value(self.names.presence_bucket)
                frontends = await js.key_value(self.names.frontends_bucket)
                lease_s = (await frontends.status()).ttl or 15.0
            except NotFoundError:
                raise BusUnavailable(
                    f"no front-end of CSMS {self.names.csms_id} has joined "
                    f"{redacted(self.bus)} (no bucket {self.names.presence_bucket})") from None
            except nats.errors.Error as exc:
                raise BusUnavailable(f"{redacted(self.bus)} has no usable JetStream: {exc}"
                                     ) from None
            self._directory = Directory(presence, frontends, lease_s, utc_now,
                                        ClusterMetrics())
        return self._directory

    async def frontends(self) -> list[Lease]:
        return await (await self.directory()).live_frontends()

    async def where(self, station_id: str) -> tuple[PresenceEntry | None, bool]:
        """(entry, live); read only: a stale entry is reported, not removed."""
        directory = await self.directory()
        _revision, entry = await directory.lookup(station_id)
        return entry, entry is not None and await directory.is_live(entry)

    async def events(self, *, kinds: Sequence[str] = (), station: str | None = None,
                     new_only: bool = False) -> AsyncIterator[dict[str, Any]]:
        """The stream's events (``event_to_json`` dicts plus ``subject``), oldest kept
        first unless ``new_only``; an ordered consumer that leaves nothing behind."""
        assert self.nc is not None
        subject = event_filter(self.names, kinds, station)
        js = self.nc.jetstream(timeout=self.timeout)
        try:
            sub = await js.subscribe(
                subject, stream=self.names.events_stream, ordered_consumer=True,
                config=ConsumerConfig(deliver_policy=DeliverPolicy.NEW if new_only
                                      else DeliverPolicy.ALL))
        except NotFoundError:
            raise BusUnavailable(f"no events stream {self.names.events_stream} on "
                                 f"{redacted(self.bus)}") from None
        try:
            async for msg in sub.messages:
                data = orjson.loads(msg.data)
                if kinds and data.get("kind") not in kinds:
                    continue
                yield {"subject": msg.subject, **data}
        finally:
            with contextlib.suppress(nats.errors.Error, OSError):
                await sub.unsubscribe()
