"""A station addressed directly by the grid operator enforces the limit itself.

:func:`attach_to_station` puts a :class:`GridSite` in front of a simulated station's
SetChargingProfile / ClearChargingProfile handlers (the operator's profile goes to the site,
any other profile to the station as before) and adds GridHeartbeat. What is in force becomes
one ChargingStationExternalConstraints profile on EVSE 0 of the station's profile table —
the failsafe limit too, installed by the station's own timer when the heartbeat stops.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ocppnet.grid.config import GridSiteSection
from ocppnet.grid.lpc import LpcStatus
from ocppnet.grid.messages import GRID_PROFILE_ID
from ocppnet.grid.site import GridSite, check_signing_key, grid_command
from ocppnet.rpc.frames import JsonObject
from ocppnet.security.context import SecurityContext
from ocppnet.station.profiles import ChargingProfile, Purpose, Schedule, SchedulePeriod
from ocppnet.transport.handlers import CallContext, Handler

if TYPE_CHECKING:
    from ocppnet.station.runtime import SimulatedStation

__all__ = ["attach_to_station"]


def _grid_profile(limit_w: float, now: float) -> ChargingProfile:
    return ChargingProfile(
        id=GRID_PROFILE_ID, evse_id=0, stack_level=0, purpose=Purpose.EXTERNAL,
        kind="Absolute", schedule=Schedule("W", (SchedulePeriod(0, limit_w),)),
        installed_at=now)


def attach_to_station(
    station: SimulatedStation,
    section: GridSiteSection,
    security: SecurityContext,
    *,
    clock: Callable[[], float] = time.time,
) -> GridSite:
    """Make ``station`` enforce the operator's limits; ``await site.start()`` once running."""
    check_signing_key(security, section.signing_key, "grid.signing_key")
    model = station.model

    def enforce(status: LpcStatus) -> None:
        now = station.clock.now()
        events = model.advance(now)  # energy so far at the old limit
        model.profiles.clear(profile_id=GRID_PROFILE_ID)
        if status.limit_w is not None:
            model.profiles.install(_grid_profile(status.limit_w, now))
        station.apply(events + model.advance(now))

    # a station in standard mode sees no originator (the last node strips PATH)
    site = GridSite(station.station_id, section, security, enforce, clock=clock,
                    check_source=False)
    for action in ("SetChargingProfile", "ClearChargingProfile"):
        original = station.handlers.get(action)
        station.handlers.replace(action, _dispatch(site, original))
    station.handlers.add("GridHeartbeat", site.on_heartbeat)
    return site


def _dispatch(site: GridSite, original: Handler | None) -> Handler:
    async def handler(ctx: CallContext, payload: JsonObject) -> JsonObject | None:
        if grid_command(ctx.action, payload) or original is None:
            return await site.on_command(ctx, payload)
        return await original(ctx, payload)

    return handler
