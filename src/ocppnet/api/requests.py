"""``ocppnet_api_requests_total{method,route,status}``: every HTTP request the API answered,
by route template (``/api/v1/stations/{station_id}/call``, never the concrete id, so the
label set stays small). A plain ASGI wrapper: it only looks at the response's status, so
streamed answers (the dashboard's server-sent events) pass untouched.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_PREFIX = "/api/v1"


class RequestCounter:
    """ASGI middleware counting answered HTTP requests into ``registry``."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter("ocppnet_api_requests", "HTTP requests answered by the API",
                                ["method", "route", "status"], registry=registry)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = {"code": 500}

        async def tap(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, tap)
        finally:
            self.requests.labels(scope["method"], route_template(scope),
                                 str(status["code"])).inc()


def route_template(scope: Scope) -> str:
    """The matched route's path template, with the /api/v1 prefix its router was mounted
    under (FastAPI keeps the router's own path on the route); "other" when none matched."""
    route: Any = scope.get("route")
    template = getattr(route, "path", None)
    if not isinstance(template, str):
        return "other"
    path = str(scope.get("path", ""))
    if path.startswith(API_PREFIX + "/") and not template.startswith(API_PREFIX):
        template = API_PREFIX + template
    return template
