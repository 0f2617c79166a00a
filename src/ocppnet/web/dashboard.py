"""The dashboard: one page (static/), a JSON state and a server-sent-event stream.

``Dashboard(app, nodes=..., feed=...)`` reads the CSMS (store, id, its own router) and each
node's snapshot (an in-process callable or a node's HTTP address) and serves:

* ``GET /`` the page; ``GET /static/...`` its script and style (no CDN, all local);
* ``GET /api/state`` topology, routing tables and station rows as JSON;
* ``GET /api/messages`` the recent message stream;
* ``GET /api/events`` server-sent events: ``state`` every ``state_interval`` seconds and one
  ``message`` per stream entry (after the recent ones), until the browser leaves.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ocppnet.node.router import Router
from ocppnet.store import Store
from ocppnet.transport.http import JsonResponse
from ocppnet.web.feed import MessageFeed
from ocppnet.web.stations import station_rows
from ocppnet.web.topology import StationView, build_topology

log = logging.getLogger("ocppnet.web.dashboard")

STATIC = Path(__file__).with_name("static")

#: A node's snapshot: ``node.snapshot`` (sync or async), or its HTTP base URL (``http_port``).
NodeSource = Callable[[], Mapping[str, Any] | Awaitable[Mapping[str, Any]]] | str


async def read_snapshot(name: str, source: NodeSource) -> dict[str, Any]:
    """The node's snapshot, or a placeholder naming the error (the page shows it down)."""
    try:
        if isinstance(source, str):
            url = source.rstrip("/") + "/api/node"
            data: Any = await asyncio.to_thread(_fetch_json, url)
        else:
            data = source()
            if inspect.isawaitable(data):
                data = await data
        return dict(data)
    except Exception as exc:
        return {"nodeId": name, "links": [], "routes": [], "upstreams": [],
                "error": str(exc) or type(exc).__name__}


def _fetch_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=2) as response:
        return json.load(response)


def sse(event: str, data: Any) -> bytes:
    """One server-sent event (JSON data on one line)."""
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


class Dashboard:
    """What the page shows, and the Starlette app that serves it (:meth:`asgi`)."""

    def __init__(
        self,
        store: Store,
        *,
        csms_id: str = "CSMS",
        csms_router: Router | None = None,
        nodes: Mapping[str, NodeSource] | None = None,
        feed: MessageFeed | None = None,
        kinds: Mapping[str, str] | None = None,
        title: str = "ocppnet",
        state_interval: float = 1.0,
        panels: Mapping[str, Callable[[], Any]] | None = None,
    ) -> None:
        self.store = store
        self.csms_id = csms_id
        self.csms_router = csms_router
        self.nodes: dict[str, NodeSource] = dict(nodes or {})
        self.feed = feed or MessageFeed()
        self.kinds = dict(kinds or {})
        self.title = title
        self.state_interval = state_interval
        self.panels: dict[str, Callable[[], Any]] = dict(panels or {})
        """Extra state by name (e.g. ``grid``: the grid operator's targets), for static/*.js."""
        self._closing = asyncio.Event()

    async def state(self) -> dict[str, Any]:
        snapshots = [await read_snapshot(n, s) for n, s in self.nodes.items()]
        if self.csms_router is not None:
            snapshots.insert(0, self.csms_router.snapshot())
        known = {str(s["nodeId"]) for s in snapshots} | set(self.kinds) | {self.csms_id}
        stations = await station_rows(self.store, exclude=known)
        views = [StationView(r["id"], r["connected"], tuple(r["path"])) for r in stations]
        return {
            "title": self.title,
            "at": datetime.now(UTC).isoformat(),
            "csms": self.csms_id,
            "topology": build_topology(self.csms_id, views, snapshots, self.kinds),
            "nodes": snapshots,
            "stations": stations,
            "panels": {name: produce() for name, produce in self.panels.items()},
        }

    def close(self) -> None:
        """End every event stream (call before stopping the HTTP server)."""
        self._closing.set()

    async def events(self) -> AsyncIterator[bytes]:
        queue = self.feed.subscribe()
        backlog = self.feed.recent()  # taken with the subscription: each entry exactly once
        try:
            yield sse("state", await self.state())
            yield sse("messages", backlog)
            loop = asyncio.get_running_loop()
            next_state = loop.time() + self.state_interval
            while not self._closing.is_set():
                timeout = max(0.0, next_state - loop.time())
                try:
                    entry = await asyncio.wait_for(queue.get(), timeout)
                except TimeoutError:
                    yield sse("state", await self.state())
                    next_state = loop.time() + self.state_interval
                    continue
                batch = [entry]
                while not queue.empty() and len(batch) < 200:
                    batch.append(queue.get_nowait())
                yield sse("messages", batch)
        finally:
            self.feed.unsubscribe(queue)

    def asgi(self) -> Starlette:
        async def index(request: Request) -> Response:
            return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

        async def state(request: Request) -> Response:
            return JsonResponse(await self.state())

        async def messages(request: Request) -> Response:
            return JsonResponse(self.feed.recent())

        async def events(request: Request) -> Response:
            return StreamingResponse(
                self._until_closed(self.events()), media_type="text/event-stream",
                headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
            )

        return Starlette(routes=[
            Route("/", index),
            Route("/api/state", state),
            Route("/api/messages", messages),
            Route("/api/events", events),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ])

    async def _until_closed(self, stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        async for chunk in stream:
            yield chunk
            if self._closing.is_set():
                break
