"""What every CSMS handler shares: config, store, event bus, clock and live stations.

Handlers see the transport only through :class:`RequestContext` and :class:`StationLink`,
two small protocols that :class:`ocppnet.transport.handlers.CallContext` and
:class:`ocppnet.transport.connection.Connection` satisfy; tests pass a plain dataclass.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from ocppnet.csms.config import CsmsConfig
from ocppnet.csms.events import EventBus, StationChanged
from ocppnet.rpc.timestamps import format_timestamp
from ocppnet.security.context import SecurityContext
from ocppnet.store import StationBoot, Store
from ocppnet.tariffs import CostMeter


class StationLink(Protocol):
    """A station's live connection, as the CSMS uses it to send requests."""

    @property
    def version(self) -> str: ...

    @property
    def is_attached(self) -> bool: ...

    async def call(
        self, action: str, payload: dict[str, Any], *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> dict[str, Any]: ...


class RequestContext(Protocol):
    """Who sent the request a handler answers."""

    @property
    def connection(self) -> StationLink | None: ...

    @property
    def remote_id(self) -> str: ...

    @property
    def message_id(self) -> str: ...

    @property
    def action(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def path(self) -> tuple[str, ...]: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


class CsmsCore:
    """Shared state of the CSMS handlers and operations."""

    def __init__(
        self,
        config: CsmsConfig,
        store: Store,
        bus: EventBus,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.config = config
        self.store = store
        self.bus = bus
        self.clock = clock
        self.links: dict[str, StationLink] = {}
        self.paths: dict[str, tuple[str, ...]] = {}
        self.tariff_trust: SecurityContext | None = None  # who may issue tariffs (tariff_check)
        self.tariff_meters: dict[tuple[str, str], tuple[CostMeter, bool]] = {}  # running costs

    def note_link(self, ctx: RequestContext) -> None:
        """Remember the connection a station's request came on (for CSMS-initiated calls)."""
        if ctx.connection is not None:
            self.links[ctx.remote_id] = ctx.connection
        if ctx.path:
            self.paths[ctx.remote_id] = ctx.path

    async def station_connected(
        self, station_id: str, link: StationLink | None, path: Sequence[str] = ()
    ) -> None:
        """The transport accepted a station (directly or through nodes on ``path``)."""
        now = self.clock()
        if link is not None:
            self.links[station_id] = link
        self.paths[station_id] = tuple(path)
        await self.store.set_connected(station_id, True, now, path)
        self.bus.publish(
            StationChanged(now, station_id, True, None,
                           link.version if link is not None else None, tuple(path))
        )

    async def station_disconnected(self, station_id: str) -> None:
        now = self.clock()
        self.links.pop(station_id, None)
        path = self.paths.pop(station_id, ())
        await self.store.set_connected(station_id, False, now, path)
        self.bus.publish(StationChanged(now, station_id, False, path=path))

    async def accept_boot(
        self,
        ctx: RequestContext,
        *,
        vendor: str,
        model: str,
        serial_number: str | None,
        firmware: str | None,
        reason: str | None = None,
    ) -> Payload:
        """Store an accepted BootNotification (any version) and answer it."""
        now = self.clock()
        self.note_link(ctx)
        await self.store.record_boot(
            StationBoot(
                station_id=ctx.remote_id,
                ocpp_version=ctx.version,
                vendor=vendor,
                model=model,
                serial_number=serial_number,
                firmware=firmware,
                boot_reason=reason,
                boot_status="Accepted",
                at=now,
                path=ctx.path,
            )
        )
        self.bus.publish(
            StationChanged(now, ctx.remote_id, True, "Accepted", ctx.version, ctx.path)
        )
        return {
            "status": "Accepted",
            "currentTime": format_timestamp(now),
            "interval": self.config.heartbeat_interval,
        }

    async def heartbeat(self, ctx: RequestContext) -> Payload:
        """Note that the station is alive (any version) and answer with the time. The
        answer does not wait for ``last_seen`` to be committed (write-behind, like the
        message log): a Heartbeat carries nothing that must not be lost, and the last one
        wins anyway."""
        now = self.clock()
        self.note_link(ctx)
        self.store.note_seen(ctx.remote_id, now)
        return {"currentTime": format_timestamp(now)}


Payload = dict[str, Any]
#: ``async def handler(core, ctx, payload) -> response payload``
CsmsHandler = Callable[[CsmsCore, RequestContext, Payload], Awaitable[Payload]]
