"""Read routes of the CSMS operator API (scope ``read``): stations, transactions with their
meter values, the message log, station events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from ocppnet.api import ApiError, require_scope
from ocppnet.csms.api.views import (
    event_view,
    message_view,
    sample_view,
    station_view,
    transaction_view,
)
from ocppnet.csms.app import CsmsApp
from ocppnet.store import TransactionRecord


def live_version(app: CsmsApp, station_id: str) -> str | None:
    link = app.core.links.get(station_id)
    return link.version if link is not None and link.is_attached else None


def read_router(app: CsmsApp) -> APIRouter:
    router = APIRouter(tags=["read"], dependencies=[Depends(require_scope("read"))])
    store = app.store

    async def one_station(station_id: str) -> dict[str, Any]:
        record = await store.get_station(station_id)
        if record is None:
            raise ApiError(404, "unknown_station", f"no station {station_id} in the store")
        connectors = await store.list_connectors(station_id)
        return station_view(record, connectors, live_version(app, station_id))

    @router.get("/stations", summary="every station: status, version, path, connectors")
    async def stations(
        connected: Annotated[bool | None, Query(description="only (dis)connected ones")] = None,
    ) -> list[dict[str, Any]]:
        views = [await one_station(s.station_id) for s in await store.list_stations()]
        return [v for v in views if connected is None or v["connected"] == connected]

    @router.get("/stations/{station_id}", summary="one station")
    async def station(station_id: str) -> dict[str, Any]:
        return await one_station(station_id)

    @router.get("/stations/{station_id}/events",
                summary="what the station reported as data (security events, NotifyEvent...)")
    async def events(
        station_id: str, kind: Annotated[str | None, Query(description="e.g. SecurityEvent")]
        = None,
    ) -> list[dict[str, Any]]:
        await one_station(station_id)
        return [event_view(e) for e in await store.list_station_events(station_id, kind)]

    @router.get("/transactions", summary="transactions with their energy")
    async def transactions(
        station: Annotated[str | None, Query(description="only this station's")] = None,
        active: Annotated[bool, Query(description="only running ones")] = False,
    ) -> list[dict[str, Any]]:
        return [transaction_view(t)
                for t in await store.list_transactions(station, active_only=active)]

    async def with_samples(tx: TransactionRecord) -> dict[str, Any]:
        view = transaction_view(tx)
        view["meterValues"] = [sample_view(m) for m in await store.list_meter_samples(tx.key)]
        return view

    @router.get("/transactions/{transaction_id}",
                summary="one transaction with its meter values (station= when ids repeat)")
    async def transaction(
        transaction_id: str,
        station: Annotated[str | None, Query(description="the station, if ids repeat")] = None,
    ) -> dict[str, Any]:
        found = await store.find_transactions(transaction_id)
        if station is not None:
            found = [t for t in found if t.station_id == station]
        if not found:
            where = f" of station {station}" if station else ""
            raise ApiError(404, "unknown_transaction", f"no transaction {transaction_id}{where}")
        if len(found) > 1:
            stations = ", ".join(t.station_id for t in found)
            raise ApiError(409, "ambiguous_transaction",
                           f"transaction {transaction_id} exists at {stations}: add ?station=")
        return await with_samples(found[0])

    @router.get("/messages", summary="the message log, newest first")
    async def messages(
        station: Annotated[str | None, Query()] = None,
        action: Annotated[str | None, Query(examples=["TransactionEvent"])] = None,
        since: Annotated[datetime | None, Query(description="ISO 8601, inclusive")] = None,
        until: Annotated[datetime | None, Query(description="ISO 8601, exclusive")] = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    ) -> list[dict[str, Any]]:
        await store.flush()  # the log is write-behind: show what was seen up to now
        entries = await store.list_messages(station, limit=limit, action=action,
                                            since=since, until=until)
        return [message_view(e) for e in entries]

    return router
