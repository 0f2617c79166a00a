"""The shared API app served for real (uvicorn on 127.0.0.1:0) and called over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Depends
from prometheus_client import Counter
from pydantic import BaseModel

from ocppnet.api import (
    ApiError,
    OperatorGrant,
    TokenTable,
    api_app,
    check_bind,
    hash_token,
    new_registry,
    require_scope,
    serve_api,
)
from ocppnet.errors import ConfigError

TOKENS = TokenTable([("ops", hash_token("op-token"), ["operator"]),
                     ("viewer", hash_token("read-token"), ["read"]),
                     ("scraper", hash_token("metrics-token"), ["metrics"])])


class Thing(BaseModel):
    name: str
    count: int


def things_router(registry: Any) -> APIRouter:
    made = Counter("things_made", "things made", registry=registry)
    router = APIRouter(tags=["things"])

    @router.get("/things/{name}", dependencies=[Depends(require_scope("read"))])
    async def get_thing(name: str) -> dict[str, str]:
        if name == "missing":
            raise ApiError(404, "unknown_thing", "no thing called missing")
        return {"name": name}

    @router.post("/things")
    async def make_thing(thing: Thing, grant: OperatorGrant) -> dict[str, Any]:
        made.inc()
        return {"made": thing.name, "by": grant.name}

    return router


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    registry = new_registry()
    app = api_app("test API", [things_router(registry)], auth=TOKENS, registry=registry)
    server = await serve_api(app, "127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            yield http
    finally:
        await server.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_routes_live_under_api_v1_with_scopes(client: httpx.AsyncClient) -> None:
    ok = await client.get("/api/v1/things/lamp", headers=bearer("read-token"))
    assert (ok.status_code, ok.json()) == (200, {"name": "lamp"})
    made = await client.post("/api/v1/things", json={"name": "lamp", "count": 2},
                             headers=bearer("op-token"))
    assert made.json() == {"made": "lamp", "by": "ops"}
    assert (await client.get("/things/lamp")).status_code == 404


async def test_401_and_403_bodies_say_what_was_wrong(client: httpx.AsyncClient) -> None:
    none = await client.get("/api/v1/things/lamp")
    assert none.status_code == 401
    assert none.headers["www-authenticate"] == "Bearer"
    assert none.json()["error"] == "unauthorized" and "no bearer token" in none.json()["detail"]
    unknown = await client.get("/api/v1/things/lamp", headers=bearer("guess"))
    assert (unknown.status_code, unknown.json()["detail"]) == (401, "unknown token")
    wrong = await client.post("/api/v1/things", json={"name": "x", "count": 1},
                              headers=bearer("read-token"))
    assert wrong.status_code == 403
    assert wrong.json() == {"error": "forbidden", "detail": "token 'viewer' lacks scope "
                            "'operator' (it has: metrics, read)"}


async def test_errors_are_json_and_name_the_field(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/things/missing", headers=bearer("read-token"))
    assert missing.status_code == 404
    assert missing.json() == {"error": "unknown_thing", "detail": "no thing called missing"}
    invalid = await client.post("/api/v1/things", json={"name": "x", "count": "many"},
                                headers=bearer("op-token"))
    assert invalid.status_code == 422
    assert invalid.json()["error"] == "invalid_request"
    assert invalid.json()["detail"].startswith("body.count: input should be a valid integer")
    nowhere = await client.get("/api/v1/nowhere")
    assert nowhere.status_code == 404
    assert nowhere.json()["detail"] == "no such path: GET /api/v1/nowhere"


async def test_openapi_and_local_docs(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/v1/openapi.json")).json()
    assert {"/api/v1/things/{name}", "/api/v1/things", "/api/v1/health"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    docs = await client.get("/api/v1/docs")
    assert docs.status_code == 200 and "/api/v1/openapi.json" in docs.text
    assert "cdn." not in docs.text  # served from the package, works offline
    script = await client.get("/api/v1/docs-static/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.content) > 100_000


async def test_metrics_need_the_metrics_scope_and_show_the_registry(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/api/v1/things", json={"name": "x", "count": 1},
                      headers=bearer("op-token"))
    assert (await client.get("/metrics")).status_code == 401
    scraped = await client.get("/metrics", headers=bearer("metrics-token"))
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    assert "things_made_total 1.0" in scraped.text
    assert ('ocppnet_api_requests_total{method="POST",route="/api/v1/things",status="200"} 1.0'
            in scraped.text)
    assert 'route="/metrics",status="401"' in scraped.text
    who = await client.get("/api/v1/whoami", headers=bearer("metrics-token"))
    assert who.json() == {"name": "scraper", "scopes": ["metrics"]}
    assert (await client.get("/api/v1/health")).json()["status"] == "ok"


async def test_without_tokens_loopback_is_open_and_registries_are_separate() -> None:
    one, two = new_registry(), new_registry()
    app_one = api_app("one", [things_router(one)], registry=one)
    api_app("two", [things_router(two)], registry=two)  # same family names: no collision
    server = await serve_api(app_one, "127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            made = await http.post("/api/v1/things", json={"name": "x", "count": 1})
            assert made.json()["by"] == "anonymous"
            assert "things_made_total 1.0" in (await http.get("/metrics")).text
    finally:
        await server.close()
    assert two.get_sample_value("things_made_total") == 0.0


async def test_off_loopback_without_token_is_refused_before_binding() -> None:
    app = api_app("open", [])
    with pytest.raises(ConfigError, match=r"refusing to serve the HTTP API on 0\.0\.0\.0 without"):
        await serve_api(app, "0.0.0.0", 0)
    check_bind("0.0.0.0", TOKENS)  # with a token it may
    for host in ("127.0.0.1", "127.1.2.3", "::1", "localhost"):
        check_bind(host, TokenTable())
    with pytest.raises(ConfigError):
        check_bind("example.org", TokenTable())
