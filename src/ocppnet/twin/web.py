"""The twin's HTTP API and its page of time charts (FastAPI; OpenAPI at ``/api/v1/docs``).

* ``GET /api/v1/twin/stations`` twin state per station (last values, health flags,
  verdict counts);
* ``GET /api/v1/twin/series?station=&label=&since=`` one time series ``[[t, value], …]``;
* ``GET /api/v1/twin/sites`` and ``/api/v1/twin/sites/{site}/series`` a site's total power
  against its limit;
* ``GET /api/v1/twin/verdicts`` counts per stream and status, and the latest problems;
* ``GET /`` the page (static/twin.html, the chart library vendored from npm at set-up time
  into static/vendor/, nothing from a CDN).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from ocppnet.api import ApiSection, api_app, new_registry, require_scope
from ocppnet.twin.service import TwinService

__all__ = ["STATIC", "twin_app", "twin_routes"]

STATIC = Path(__file__).with_name("static")


def twin_routes(service: TwinService) -> APIRouter:
    """The twin's read-only routes (mounted under ``/api/v1``; scope ``read`` when the file
    configures ``[api]`` tokens)."""
    router = APIRouter(prefix="/twin", tags=["digital twin"],
                       dependencies=[Depends(require_scope("read"))])

    @router.get("/stations")
    async def stations() -> dict[str, Any]:
        now = service.clock()
        counts: dict[str, dict[str, int]] = {}
        for row in await service.store.verdict_counts():
            per = counts.setdefault(row["station"], {})
            per[row["status"]] = per.get(row["status"], 0) + row["count"]
        rows = service.state.snapshot(now)
        for row in rows:
            row["verdicts"] = counts.get(row["station"], {})
            row["powerLabels"] = service.power_labels(row["station"])
        return {"at": now, "stations": rows, "counters": dict(service.counters)}

    @router.get("/series")
    async def series(station: str, label: str, since: float = 0.0,
                     until: float | None = None) -> dict[str, Any]:
        points = await service.store.series(station, label, since,
                                            float("inf") if until is None else until)
        return {"station": station, "label": label, "points": points}

    @router.get("/sites")
    async def sites() -> list[dict[str, Any]]:
        return [{"site": name, "stations": list(site.stations), "limitW": site.limit_w}
                for name, site in sorted(service.section.sites.items())]

    @router.get("/sites/{site}/series")
    async def site_series(site: str, since: float = 0.0,
                          bucket_s: float = Query(1.0, gt=0)) -> dict[str, Any]:
        if site not in service.section.sites:
            raise HTTPException(404, f"no site {site!r} in [twin.sites]")
        points = await service.site_series(site, since=since, bucket_s=bucket_s)
        return {"site": site, "limitW": service.section.sites[site].limit_w, "points": points}

    @router.get("/verdicts")
    async def verdicts() -> dict[str, Any]:
        return {"counts": await service.store.verdict_counts(),
                "problems": await service.store.problems()}

    return router


class TwinCollector(Collector):
    """``ocppnet_twin_batches_total{outcome}`` and ``ocppnet_twin_values_total`` on /metrics."""

    def __init__(self, service: TwinService) -> None:
        self.service = service

    def collect(self) -> Iterator[Metric]:
        counters = self.service.counters
        batches = CounterMetricFamily("ocppnet_twin_batches", "stream batches received",
                                      labels=["outcome"])
        for outcome in ("accepted", "refused"):
            batches.add_metric([outcome], counters[outcome])
        yield batches
        yield CounterMetricFamily("ocppnet_twin_values", "values stored",
                                  value=counters["values"])


def twin_app(service: TwinService, *, auth: ApiSection | None = None) -> FastAPI:
    """The whole HTTP app (the shared API layer: /api/v1, docs, tokens, /metrics) and the page
    at / (it sends the token given as ``#token=...`` in its address)."""
    registry = new_registry()
    registry.register(TwinCollector(service))
    app = api_app("ocppnet digital twin", [twin_routes(service)], auth=auth, registry=registry)

    @app.get("/", include_in_schema=False)
    async def page() -> Response:
        return FileResponse(STATIC / "twin.html", headers={"Cache-Control": "no-store"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
