"""HTTP next to the WebSocket servers: any ASGI app served by uvicorn inside our event loop.

``serve_http(app, host, port)`` runs the app in the current event loop and returns a handle
with the bound ``port`` and ``close()``; ``json_app({"/api/node": snapshot})`` builds an app
answering GET with the JSON of each callable's result. Used by every process that has an
HTTP side (node introspection, CSMS dashboard, participants), so none of them imports
another's package for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

log = logging.getLogger("ocppnet.transport.http")


class JsonResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def json_app(endpoints: Mapping[str, Callable[[], Any]]) -> Starlette:
    """An app answering ``GET path`` with the JSON of ``endpoints[path]()``."""

    def handler_for(produce: Callable[[], Any]) -> Callable[[Request], Any]:
        async def handler(request: Request) -> Response:
            return JsonResponse(produce())

        return handler

    return Starlette(routes=[Route(p, handler_for(f)) for p, f in endpoints.items()])


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside our process: signals stay with the process owner (the CLI)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class HttpServer:
    """A running uvicorn server: ``port``, ``url``, ``close()``."""

    def __init__(self, server: uvicorn.Server, task: asyncio.Task[None], sock: socket.socket):
        self.server = server
        self.task = task
        self.socket = sock

    @property
    def port(self) -> int:
        return int(self.socket.getsockname()[1])

    @property
    def url(self) -> str:
        host = self.socket.getsockname()[0]
        return f"http://{host}:{self.port}"

    async def close(self) -> None:
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self.task, 5.0)
        self.socket.close()


async def serve_http(app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> HttpServer:
    """Serve ``app`` on host:port (0 = any free port); OSError when the port is taken."""
    # proto IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say so; with proto 0
    # every keep-alive response waited ~40 ms for the peer's delayed ACK (Nagle)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM,
                         socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    sock.setblocking(False)
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = _EmbeddedServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    log.info("event=http_listening url=http://%s:%d", host, sock.getsockname()[1])
    return HttpServer(server, task, sock)
