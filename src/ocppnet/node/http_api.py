"""A node's HTTP server: its snapshot (routing table, links, queue) and Prometheus metrics,
on the shared API infrastructure (:mod:`ocppnet.api`): ``/api/v1/node``, the older
``/api/node`` (the dashboard and ``ocppnet node routes`` read it), ``/metrics``, OpenAPI at
``/api/v1/docs``. With ``[api]`` tokens configured every path but health and docs needs one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from prometheus_client.registry import Collector

from ocppnet.api import ApiSection, TokenTable, api_app, new_registry, require_scope
from ocppnet.node.metrics import RouterMetrics
from ocppnet.node.queue import ForwardQueue


def snapshot_router(snapshot: Callable[[], dict[str, Any]], path: str = "/node") -> APIRouter:
    router = APIRouter(tags=["node"], dependencies=[Depends(require_scope("read"))])

    @router.get(path, summary="routing table, links, upstreams, queue, counters")
    async def node() -> dict[str, Any]:
        return snapshot()

    return router


def node_http_app(
    node_id: str,
    router: Any,
    snapshot: Callable[[], dict[str, Any]],
    *,
    auth: TokenTable | ApiSection | None,
    queue: ForwardQueue | None,
    upstreams: Callable[[], Any],
    collectors: Sequence[Collector] = (),
) -> FastAPI:
    """The node's app; its metrics count ``router`` from now on (and ``collectors``, e.g. the
    mirror's, are read at every scrape)."""
    registry = new_registry()
    RouterMetrics(router, registry, queue=queue, upstreams=upstreams)
    for collector in collectors:
        registry.register(collector)
    app = api_app(f"ocppnet node {node_id}", [snapshot_router(snapshot)], auth=auth,
                  registry=registry)
    app.include_router(snapshot_router(snapshot, "/api/node"), include_in_schema=False)
    return app
