"""The dashboard's HTTP side on 127.0.0.1: the page and its files, the JSON state built from a
real store and router, and the server-sent event stream."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from ocppnet.csms.events import MessageSeen
from ocppnet.node.router import Router
from ocppnet.store import ConnectorRecord, NewTransaction, SqliteStore, StationBoot
from ocppnet.transport.http import HttpServer, serve_http
from ocppnet.web.dashboard import Dashboard, sse
from ocppnet.web.feed import MessageFeed, entry_of_message

AT = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def get(url: str) -> tuple[str, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.headers.get("content-type", ""), response.read()


@pytest.fixture
async def served() -> AsyncIterator[tuple[Dashboard, HttpServer]]:
    store = SqliteStore(":memory:")
    await store.open()
    await store.record_boot(StationBoot("CS-B1", "2.0.1", "v", "m", "Accepted", AT,
                                        path=("CS-B1", "NODE-B", "NODE-A")))
    await store.set_connector_status(ConnectorRecord("CS-B1", 1, 1, "Occupied", AT))
    tx = await store.start_transaction(NewTransaction("CS-B1", AT, "tx-1", 1, 1, "TOKEN", 0.0))
    await store.update_energy("CS-B1", tx.transaction_id, 1500.0)
    await store.record_boot(StationBoot("NODE-B", "2.0.1", "v", "m", "Accepted", AT))

    def node_a() -> dict[str, Any]:
        return {"nodeId": "NODE-A", "routes": [{"destination": "CS-B1", "link": "NODE-B#1"}],
                "links": [{"link": "CSMS", "remoteId": "CSMS", "mode": "overlay",
                           "role": "upstream"}], "upstreams": []}

    async def node_b() -> dict[str, Any]:
        raise ConnectionRefusedError("node is down")

    dashboard = Dashboard(store, csms_router=Router("CSMS"), state_interval=0.05,
                          nodes={"NODE-A": node_a, "NODE-B": node_b}, feed=MessageFeed())
    http = await serve_http(dashboard.asgi())
    try:
        yield dashboard, http
    finally:
        dashboard.close()
        await http.close()
        await store.close()


async def test_page_and_its_files_are_served_locally(
    served: tuple[Dashboard, HttpServer]
) -> None:
    _, http = served
    kind, page = await asyncio.to_thread(get, http.url + "/")
    assert kind.startswith("text/html") and b'src="/static/dashboard.js"' in page
    assert b"http" not in page.replace(b"http-equiv", b"")  # nothing fetched from elsewhere
    for name, mime in (("dashboard.js", "javascript"), ("dashboard.css", "text/css")):
        kind, body = await asyncio.to_thread(get, f"{http.url}/static/{name}")
        assert mime in kind and len(body) > 500


async def test_state_has_topology_routes_and_station_energy(
    served: tuple[Dashboard, HttpServer]
) -> None:
    _, http = served
    _, body = await asyncio.to_thread(get, http.url + "/api/state")
    state = json.loads(body)
    [station] = state["stations"]  # NODE-B is a node, not a station
    assert station["id"] == "CS-B1" and station["energyWh"] == 1500.0
    assert station["sessionWh"] == 1500.0 and station["charging"] == 1
    assert station["connectors"] == [{"evse": 1, "connector": 1, "status": "Occupied"}]
    assert [n["nodeId"] for n in state["nodes"]] == ["CSMS", "NODE-A", "NODE-B"]
    assert state["nodes"][2]["error"] == "node is down"
    kinds = {v["id"]: v["kind"] for v in state["topology"]["vertices"]}
    assert kinds == {"CSMS": "csms", "NODE-A": "node", "NODE-B": "node", "CS-B1": "station"}


async def read_events(url: str, until_message: str) -> list[tuple[str, Any]]:
    """Events of /api/events until a ``messages`` event carries ``until_message``."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"GET /api/events HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    await writer.drain()
    events: list[tuple[str, Any]] = []
    name = ""
    while not any(n == "messages" and any(m["messageId"] == until_message for m in data)
                  for n, data in events):
        line = (await reader.readline()).decode().strip()
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            events.append((name, json.loads(line[6:])))
    writer.close()
    return events


async def test_event_stream_sends_state_recent_messages_then_live_ones(
    served: tuple[Dashboard, HttpServer]
) -> None:
    dashboard, http = served
    dashboard.feed.add(entry_of_message("CSMS", MessageSeen(
        AT, "CS-B1", "in", 2, "m1", "BootNotification", ("CS-B1", "NODE-B"), "unsigned")))
    reading = asyncio.create_task(read_events(http.url, "m2"))
    while dashboard.feed.subscribers == 0:  # noqa: ASYNC110 (the browser side is connecting)
        await asyncio.sleep(0.01)
    dashboard.feed.add(entry_of_message("CSMS", MessageSeen(
        AT, "CS-B1", "in", 2, "m2", "TransactionEvent", ("CS-B1", "NODE-B"), "unsigned")))
    events = await asyncio.wait_for(reading, 10)
    names = [n for n, _ in events]
    assert names[:2] == ["state", "messages"]
    assert [m["messageId"] for m in events[1][1]] == ["m1"]
    live = [m["messageId"] for n, batch in events[2:] if n == "messages" for m in batch]
    assert live == ["m2"]  # each entry once, after the backlog
    assert set(names) == {"state", "messages"}


def test_sse_framing() -> None:
    assert sse("state", {"a": 1}) == b'event: state\ndata: {"a":1}\n\n'
