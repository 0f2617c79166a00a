"""``/metrics`` in the Prometheus text format, from one registry per process (or per app).

Each process makes its own :class:`prometheus_client.CollectorRegistry` (never the global
default), so two CSMSs or nodes in one test process keep separate counters.
"""

from __future__ import annotations

from fastapi import Request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.responses import Response

from ocppnet.api.errors import ApiError


def new_registry() -> CollectorRegistry:
    """An empty registry of this process's own metric families."""
    return CollectorRegistry(auto_describe=True)


def registry_of(request: Request) -> CollectorRegistry:
    registry = getattr(request.app.state, "metrics_registry", None)
    if not isinstance(registry, CollectorRegistry):
        raise ApiError(500, "internal_error", "this app has no metrics registry")
    return registry


def metrics_response(registry: CollectorRegistry) -> Response:
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
