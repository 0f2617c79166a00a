"""HTTP routes of a front-end (scope ``read``), on the CSMS operator API:

* ``GET /api/v1/cluster/frontends`` — the live front-ends (their leases), this one marked;
* ``GET /api/v1/cluster/stations/{id}`` — ``{"station", "frontend", "version", "since",
  "path", "local"}`` for a station on a live front-end, else 404.

503 ``bus_unavailable`` when the bus cannot be asked.
"""

from __future__ import annotations

from typing import Annotated, Any

import nats
from fastapi import APIRouter, Depends, Path

from ocppnet.api import ApiError, require_scope
from ocppnet.cluster.frontend import Frontend


def _bus_error(exc: Exception) -> ApiError:
    return ApiError(503, "bus_unavailable", f"the bus cannot be asked: {exc}")


def cluster_router(frontend: Frontend) -> APIRouter:
    router = APIRouter(tags=["cluster"], dependencies=[Depends(require_scope("read"))])

    def directory() -> Any:
        if frontend.directory is None:
            raise ApiError(503, "bus_unavailable", "this front-end is not on the bus")
        return frontend.directory

    @router.get("/cluster/frontends", summary="the live front-ends of this CSMS")
    async def frontends() -> list[dict[str, Any]]:
        try:
            leases = await directory().live_frontends()
        except nats.errors.Error as exc:
            raise _bus_error(exc) from None
        return [{**lease.view(), "this": lease.incarnation == frontend.incarnation,
                 "rpc": frontend.names.rpc_subject(lease.frontend_id)} for lease in leases]

    @router.get("/cluster/stations/{station_id}",
                summary="which front-end holds the station (404: none that is alive)")
    async def station(station_id: Annotated[str, Path()]) -> dict[str, Any]:
        try:
            entry, live = await directory().where(station_id)
        except nats.errors.Error as exc:
            raise _bus_error(exc) from None
        if entry is None:
            raise ApiError(404, "unknown_station",
                           f"station {station_id} is not connected to any front-end")
        if not live:
            raise ApiError(404, "unknown_station", f"station {station_id} was on front-end "
                           f"{entry.frontend_id}, which is gone")
        return {**entry.view(), "local": entry.incarnation == frontend.incarnation}

    return router
