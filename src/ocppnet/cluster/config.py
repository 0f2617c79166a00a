"""The ``[cluster]`` table of the CSMS's TOML file (flags ``--bus``, ``--frontend-id``,
``--reuse-port`` win over it), and the checks of a bus URL. Pure.

A CSMS with a ``bus`` is one front-end of a scale-out CSMS (docs/scale-out.md); without one
it is the single-process CSMS of docs/csms.md, unchanged.
"""

from __future__ import annotations

import os
import socket
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from ocppnet.config import Section, in_range

BUS_SCHEMES = ("nats", "tls")


def check_bus_url(url: str) -> str:
    """``url`` if it is ``nats://HOST:PORT`` (or ``tls://``, several comma-separated for a
    NATS cluster), else ValueError saying what is wrong."""
    parts = [u.strip() for u in url.split(",")]
    for part in parts:
        try:
            split = urlsplit(part)
            port = split.port
        except ValueError as exc:
            raise ValueError(f"expected nats://HOST:PORT, got {part!r} ({exc})") from None
        if split.scheme not in BUS_SCHEMES or not split.hostname:
            raise ValueError(f"expected nats://HOST:PORT, got {part!r}")
        if port is None or port == 0:
            raise ValueError(f"expected nats://HOST:PORT with a port, got {part!r}")
        if split.path not in ("", "/") or split.query or split.fragment:
            raise ValueError(f"expected nats://HOST:PORT (no path), got {part!r}")
    return ",".join(parts)


def redacted(url: str) -> str:
    """``url`` without passwords (``tls://user:***@host:4222``), for logs and messages."""
    parts = []
    for part in url.split(","):
        split = urlsplit(part)
        if split.password is not None:
            host = f"[{split.hostname}]" if ":" in (split.hostname or "") else split.hostname
            netloc = f"{split.username}:***@{host}" + (f":{split.port}" if split.port else "")
            part = split._replace(netloc=netloc).geturl()
        parts.append(part)
    return ",".join(parts)


def default_frontend_id() -> str:
    """``<hostname>-<pid>``: unique per process on a machine and across machines."""
    return f"{socket.gethostname()}-{os.getpid()}"


class ClusterSection(Section):
    """One front-end of a scale-out CSMS."""

    bus: str | None = Field(
        default=None,
        description="NATS server URL `nats://HOST:PORT` (comma-separated for a NATS cluster); "
                    "none: single process, no bus")
    frontend_id: str | None = Field(
        default=None, description="this front-end's id (default `<hostname>-<pid>`)")
    reuse_port: bool = Field(
        default=False,
        description="set SO_REUSEPORT on the station listener (several processes, one port)")
    lease_s: Annotated[float, in_range(1, 3600)] = Field(
        default=15.0, description="front-end lease in seconds, renewed every third of it")
    call_timeout_s: Annotated[float, in_range(0.1, 3600)] = Field(
        default=30.0, description="how long a call to a station on another front-end waits "
                                  "when the caller gives no timeout")
    probe_s: Annotated[float, in_range(0.05, 60)] = Field(
        default=1.0, description="how often a call in flight checks that the front-end "
                                 "holding the station is still there")
    lookup_cache_s: Annotated[float, in_range(0, 60)] = Field(
        default=1.0, description="how long a presence lookup is reused for calls (0: never)")
    connect_timeout_s: Annotated[float, in_range(0.1, 300)] = Field(
        default=5.0, description="how long the start waits for the bus")
    replicas: Annotated[int, in_range(1, 5)] = Field(
        default=1, description="JetStream replicas of the buckets and the events stream")
    events: bool = Field(default=True, description="publish the event bus on JetStream")
    events_max_age_s: Annotated[float, in_range(1, 365 * 86400)] = Field(
        default=86400.0, description="events stream retention: oldest events go first "
                                     "after this many seconds")
    events_max_bytes: Annotated[int, in_range(1_048_576, 2**50)] = Field(
        default=1_073_741_824, description="events stream retention: bytes kept at most")
    events_buffer: Annotated[int, in_range(1, 10_000_000)] = Field(
        default=10_000, description="events waiting for the bus at most; beyond, the "
                                    "oldest are dropped and counted")

    @field_validator("bus")
    @classmethod
    def _bus(cls, value: str | None) -> str | None:
        return None if value is None else check_bus_url(value)

    @field_validator("frontend_id")
    @classmethod
    def _frontend(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError(f"expected a non-empty id, got {value!r}")
        return value

    @property
    def frontend(self) -> str:
        return self.frontend_id or default_frontend_id()
