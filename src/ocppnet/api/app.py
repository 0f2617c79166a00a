"""The HTTP API of any ocppnet process: one FastAPI app with every route under ``/api/v1``.

``api_app("ocppnet CSMS", [stations_router(...)], auth=tokens, registry=registry)`` gives an
app with the routers mounted under ``/api/v1``, OpenAPI at ``/api/v1/openapi.json`` and
``/api/v1/docs`` (Swagger UI served from the package, no CDN), ``/metrics`` (Prometheus),
``/api/v1/health`` and ``/api/v1/whoami``, JSON error bodies (:mod:`.errors`) and a count of
answered requests (:mod:`.requests`). Serve it
with :func:`serve_api`, which refuses to bind off loopback without a token.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi_offline import FastAPIOffline
from prometheus_client import CollectorRegistry
from starlette.responses import Response

from ocppnet.api.auth import check_bind, require_scope
from ocppnet.api.config import ApiSection, token_table
from ocppnet.api.errors import install_error_handlers
from ocppnet.api.metrics import metrics_response, new_registry, registry_of
from ocppnet.api.requests import RequestCounter
from ocppnet.api.tokens import Grant, TokenTable
from ocppnet.transport.http import HttpServer, serve_http

API_PREFIX = "/api/v1"


def api_app(
    title: str,
    routers: Sequence[APIRouter] = (),
    *,
    auth: TokenTable | ApiSection | None = None,
    registry: CollectorRegistry | None = None,
    description: str = "",
    version: str = "1",
) -> FastAPI:
    """A FastAPI app for one process. ``auth``: the tokens (an ``[api]`` section or a
    table; None = no tokens, loopback only). ``registry``: this process's metrics."""
    app = FastAPIOffline(
        title=title,
        description=description,
        version=version,
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        openapi_url=f"{API_PREFIX}/openapi.json",
        static_url=f"{API_PREFIX}/docs-static",
        swagger_ui_oauth2_redirect_url=f"{API_PREFIX}/docs/oauth2-redirect",
    )
    if isinstance(auth, ApiSection):
        auth = token_table(auth)
    app.state.api_tokens = auth if auth is not None else TokenTable()
    app.state.metrics_registry = registry if registry is not None else new_registry()
    app.add_middleware(RequestCounter, registry=app.state.metrics_registry)
    install_error_handlers(app)
    app.include_router(_common_router())
    for router in routers:
        app.include_router(router, prefix=API_PREFIX)
    return app


def _common_router() -> APIRouter:
    router = APIRouter()

    @router.get(f"{API_PREFIX}/health", tags=["api"], summary="the process is up (no token)")
    async def health(request: Request) -> dict[str, Any]:
        return {"status": "ok", "title": request.app.title}

    @router.get(f"{API_PREFIX}/whoami", tags=["api"],
                summary="the token's name and scopes (any configured token)")
    async def whoami(grant: Annotated[Grant, Depends(require_scope(None))]) -> dict[str, Any]:
        return {"name": grant.name, "scopes": sorted(grant.scopes)}

    @router.get("/metrics", tags=["api"], summary="Prometheus metrics (scope: metrics)",
                response_class=Response,
                dependencies=[Depends(require_scope("metrics"))])
    async def metrics(request: Request) -> Response:
        return metrics_response(registry_of(request))

    return router


def tokens_of(app: FastAPI) -> TokenTable:
    table = getattr(app.state, "api_tokens", None)
    return table if isinstance(table, TokenTable) else TokenTable()


async def serve_api(app: FastAPI, host: str = "127.0.0.1", port: int = 0, *,
                    what: str = "the HTTP API") -> HttpServer:
    """Serve ``app`` (any FastAPI app built by :func:`api_app`, possibly with other apps
    mounted) on host:port. ConfigError before binding when ``host`` is off loopback and no
    token is configured; OSError when the port is taken."""
    check_bind(host, tokens_of(app), what=what)
    return await serve_http(app, host, port)
