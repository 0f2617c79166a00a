"""The NATS side of a front-end's start: connect, and create (or bind to) the presence and
front-ends buckets and the events stream. Every front-end of a CSMS runs the same code, so
whichever starts first creates them and the others bind; a bucket made with other settings
by an older start is used as it is (logged), never replaced under running front-ends."""

from __future__ import annotations

import logging

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, KeyValueConfig, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError
from nats.js.kv import KeyValue

from ocppnet.cluster.config import ClusterSection, redacted
from ocppnet.cluster.names import ClusterNames

log = logging.getLogger("ocppnet.cluster")

STREAM_IN_USE = 10058  # JetStream: stream name already in use with a different configuration


class BusUnavailable(Exception):
    """The bus cannot be reached or refuses what the front-end needs; one line saying so."""


async def connect(url: str, *, name: str, timeout: float) -> Client:  # noqa: ASYNC109
    """A NATS connection that reconnects forever once it was up; BusUnavailable if the
    first connection fails. Logs and messages name the URL without its password."""
    shown = redacted(url)
    up = False

    async def quiet(exc: Exception) -> None:  # the first attempts' failure is raised below
        if up:
            log.warning("event=bus_error url=%s error=%s", shown, exc or type(exc).__name__)

    made: list[Client] = []

    async def disconnected() -> None:
        if made and made[0].is_closed:  # our own close()
            log.debug("event=bus_closed url=%s", shown)
        else:
            log.warning("event=bus_disconnected url=%s", shown)

    async def reconnected() -> None:
        log.info("event=bus_reconnected url=%s", shown)

    try:  # two tries of each server at start, then (once up) reconnect forever
        client = await nats.connect(
            url.split(","), name=name, connect_timeout=timeout, allow_reconnect=True,
            max_reconnect_attempts=1, reconnect_time_wait=0.2,
            error_cb=quiet, disconnected_cb=disconnected, reconnected_cb=reconnected,
        )
    except (OSError, TimeoutError, nats.errors.Error) as exc:
        raise BusUnavailable(f"cannot connect to {shown}: {exc or type(exc).__name__}"
                             ) from None
    up = True
    made.append(client)
    client.options["max_reconnect_attempts"] = -1
    client.options["reconnect_time_wait"] = 0.5
    return client


async def _bucket(js: JetStreamContext, config: KeyValueConfig) -> KeyValue:
    try:
        return await js.create_key_value(config)
    except BadRequestError as exc:
        if exc.err_code != STREAM_IN_USE:
            raise
        log.info("event=bucket_exists bucket=%s note=created_with_other_settings",
                 config.bucket)
        return await js.key_value(config.bucket)


async def open_buckets(js: JetStreamContext, names: ClusterNames,
                       section: ClusterSection) -> tuple[KeyValue, KeyValue, float]:
    """(presence bucket, front-ends bucket, the lease in seconds: the front-ends bucket's
    TTL, which is ``section.lease_s`` unless the bucket was made with another)."""
    presence = await _bucket(js, KeyValueConfig(
        bucket=names.presence_bucket, history=1, replicas=section.replicas, direct=True,
        storage=StorageType.FILE, description="station id -> the front-end holding it"))
    frontends = await _bucket(js, KeyValueConfig(
        bucket=names.frontends_bucket, history=1, ttl=section.lease_s,
        replicas=section.replicas, direct=True, storage=StorageType.FILE,
        description="live front-ends (the TTL is the lease)"))
    status = await frontends.status()
    lease_s = status.ttl or section.lease_s
    if abs(lease_s - section.lease_s) > 1e-3:
        log.warning("event=lease_differs bucket=%s configured=%g used=%g",
                    names.frontends_bucket, section.lease_s, lease_s)
    return presence, frontends, lease_s


async def open_events_stream(js: JetStreamContext, names: ClusterNames,
                             section: ClusterSection) -> None:
    """The events stream with the configured retention; if it exists with other settings,
    this start's win (the front-ends of one CSMS share one configuration)."""
    config = StreamConfig(
        name=names.events_stream, subjects=names.event_subjects(),
        retention=RetentionPolicy.LIMITS, discard=DiscardPolicy.OLD,
        max_age=section.events_max_age_s, max_bytes=section.events_max_bytes,
        storage=StorageType.FILE, num_replicas=section.replicas,
        description="the CSMS event bus: message, station, connector and energy events")
    try:
        await js.add_stream(config)
    except BadRequestError as exc:
        if exc.err_code != STREAM_IN_USE:
            raise
        old = (await js.stream_info(names.events_stream)).config
        await js.update_stream(config)
        log.warning("event=events_retention_changed stream=%s max_age_s=%s->%s "
                    "max_bytes=%s->%s", names.events_stream, old.max_age, config.max_age,
                    old.max_bytes, config.max_bytes)
