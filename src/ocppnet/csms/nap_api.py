"""HTTP routes of the access-point exports, an ``APIRouter`` the operator API includes.

``GET /nap/datex2/table``, ``/nap/datex2/status``, ``/nap/ocpi/locations`` (OCPI pagination:
``offset``, ``limit``, ``date_from``, ``date_to``; ``X-Total-Count``, ``X-Limit``, ``Link``)
and ``/nap/statistics?from=&to=``. Every answer carries ``ETag``, ``Last-Modified`` and the
detached JWS in ``X-JWS-Signature``; ``If-None-Match`` / ``If-Modified-Since`` get ``304``
when nothing changed. Mounted under ``/api/v1`` by the application.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from fastapi import params as fastapi_params

from ocppnet.api import require_scope
from ocppnet.csms.nap_config import NapSettings
from ocppnet.csms.nap_prices import tariff_prices
from ocppnet.csms.nap_source import JSON, NapSource, json_bytes
from ocppnet.nap import ocpi
from ocppnet.nap.publication import SIGNATURE_HEADER, Publication, http_date, not_modified
from ocppnet.store.interface import Store

__all__ = ["nap_router", "nap_routers"]

_MAX_DAYS = 366
# module level: FastAPI resolves the (string) annotations in the module's namespace
IfNoneMatch = Annotated[str | None, Header()]
IfModifiedSince = Annotated[str | None, Header()]


def _answer(pub: Publication, if_none_match: str | None,
            if_modified_since: str | None, extra: dict[str, str] | None = None) -> Response:
    headers = {"ETag": pub.etag, "Last-Modified": http_date(pub.last_modified),
               "Cache-Control": "no-cache", **(extra or {})}
    if not_modified(pub, if_none_match, if_modified_since):
        return Response(status_code=304, headers=headers)
    headers[SIGNATURE_HEADER] = pub.signature
    return Response(pub.body, media_type=pub.media_type, headers=headers)


def _utc(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise HTTPException(400, f"{name} needs a time zone (e.g. 2025-03-01T00:00:00Z)")
    return value.astimezone(UTC)


def nap_router(source: NapSource,
               dependencies: Sequence[fastapi_params.Depends] = ()) -> APIRouter:
    """The routes, each guarded by ``dependencies`` (e.g. ``require_scope("read")``)."""
    router = APIRouter(prefix="/nap", tags=["access point (AFIR)"],
                       dependencies=list(dependencies))

    @router.get("/datex2/table", summary="DATEX II v3 EnergyInfrastructureTablePublication")
    async def datex2_table(if_none_match: IfNoneMatch = None,
                           if_modified_since: IfModifiedSince = None) -> Response:
        return _answer(await source.datex2_table(), if_none_match, if_modified_since)

    @router.get("/datex2/status", summary="DATEX II v3 EnergyInfrastructureStatusPublication")
    async def datex2_status(if_none_match: IfNoneMatch = None,
                            if_modified_since: IfModifiedSince = None) -> Response:
        return _answer(await source.datex2_status(), if_none_match, if_modified_since)

    @router.get("/ocpi/locations", summary="OCPI 2.2.1 Locations with EVSE status")
    async def ocpi_locations(
        request: Request,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=ocpi.MAX_LIMIT)] = 100,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        if_none_match: IfNoneMatch = None,
        if_modified_since: IfModifiedSince = None,
    ) -> Response:
        items, snap = await source.ocpi_locations()
        url = str(request.url.replace(query=""))
        cut = ocpi.page(items, offset=offset, limit=limit, url=url,
                        generated=snap.last_modified, date_from=_utc(date_from, "date_from"),
                        date_to=_utc(date_to, "date_to"))
        pub = source.sign("ocpi-locations", json_bytes(cut.body), JSON, snap.last_modified,
                          variant=str(request.url.query))
        return _answer(pub, if_none_match, if_modified_since, cut.headers)

    @router.get("/statistics", summary="Sessions, energy, utilisation per EVSE and day "
                "(k-anonymous, no personal data)")
    async def nap_statistics(
        first: Annotated[date | None, Query(alias="from")] = None,
        last: Annotated[date | None, Query(alias="to")] = None,
        if_none_match: IfNoneMatch = None,
        if_modified_since: IfModifiedSince = None,
    ) -> Response:
        today = source.clock().astimezone(UTC).date()
        last = last or today
        first = first or last - timedelta(days=6)
        if first > last or (last - first).days >= _MAX_DAYS:
            raise HTTPException(400, f"need from <= to and at most {_MAX_DAYS} days")
        return _answer(await source.statistics(first, last), if_none_match,
                       if_modified_since)

    return router


def nap_routers(store: Store, settings: NapSettings | None) -> list[APIRouter]:
    """What a CSMS whose file has ``[nap]`` (``load_nap``) adds to its operator API: the
    routes, readable with scope ``read``. None: no routes."""
    if settings is None:
        return []
    source = NapSource(store, settings.sites, settings.key, prices=tariff_prices(store))
    return [nap_router(source, [Depends(require_scope("read"))])]
