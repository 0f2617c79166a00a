"""A running Node on loopback: anti-spoofing, the forwarding filter, several upstreams,
the per-station fallback towards a plain CSMS, introspection."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from typing import Any

import orjson
import pytest

from ocppnet.errors import CallErrorReceived, CallTimeout
from ocppnet.transport import connect_station, open_link, serve_csms
from tests.node.helpers import (
    BOOT,
    Recorder,
    node_config,
    overlay_csms,
    running_node,
    station_handlers,
    station_url,
    until,
    upstream,
)


async def overlay_request(port: int, node_id: str, frame: list[Any]) -> list[Any]:
    """Send one overlay frame as child node ``node_id`` and return the first answer."""
    link = await open_link(f"ws://127.0.0.1:{port}/ocpp", node_id, overlay=True)
    try:
        assert link.info.overlay
        await link.send_text(orjson.dumps(frame))
        answer: list[Any] = orjson.loads(await asyncio.wait_for(anext(aiter(link)), 10))
        return answer
    finally:
        await link.close()


async def test_a_child_that_forges_a_station_id_in_the_path_is_rejected() -> None:
    recorder = Recorder()
    async with overlay_csms(recorder) as csms, running_node(
        node_config("NODE-A", [upstream("CSMS-1", csms.port)])
    ) as node, connect_station(station_url(node), "CS-1", backoff=None) as real:
        await real.call("BootNotification", BOOT)
        forged = [2, "CSMS", ["CS-1"], "f1", "Heartbeat", {}]
        answer = await overlay_request(node.port, "EVIL-1", forged)
        assert answer[:4] == [4, "EVIL-1", "NODE-A", "f1"]
        assert answer[4] == "NetworkingError" and "spoofed path" in answer[5]
        # the forger may speak for itself, and for ids nobody else holds
        own = await overlay_request(node.port, "EVIL-1", [2, "CSMS", "EVIL-1", "o1", "Heartbeat",
                                                           {}])
        assert own[0] == 3 and own[3] == "o1"
    assert [s for s, _, _ in recorder.actions("Heartbeat")] == ["EVIL-1"]


async def test_a_station_cannot_smuggle_a_path_in_standard_mode() -> None:
    """A plain station's frame gets PATH = its authenticated id; overlay-shaped input is
    malformed OCPP-J and answered as such."""
    recorder = Recorder()
    async with overlay_csms(recorder) as csms, running_node(
        node_config("NODE-A", [upstream("CSMS-1", csms.port)])
    ) as node:
        link = await open_link(station_url(node), "CS-2")
        try:
            await link.send_text(orjson.dumps([2, "CSMS", ["CS-1"], "x1", "Heartbeat", {}]))
            answer = orjson.loads(await asyncio.wait_for(anext(aiter(link)), 10))
        finally:
            await link.close()
        assert answer[0] == 4 and answer[1] == "CSMS"  # standard CALLERROR for message "CSMS"
        assert recorder.seen == []


async def test_filter_rejects_with_security_error_and_drops_silently() -> None:
    recorder = Recorder()
    filters = {"rules": [
        {"action": "DataTransfer", "verdict": "reject", "direction": "up"},
        {"action": "StatusNotification", "verdict": "drop"},
        {"action": "Reset", "verdict": "reject", "direction": "down"},
    ]}
    async with overlay_csms(recorder) as csms, running_node(
        node_config("NODE-A", [upstream("CSMS-1", csms.port)], filters=filters)
    ) as node, connect_station(
        station_url(node), "CS-1", handlers=station_handlers(), backoff=None
    ) as station:
        with pytest.raises(CallErrorReceived) as info:
            await station.call("DataTransfer", {"vendorId": "acme"})
        assert info.value.code == "SecurityError"
        status = {"timestamp": "2026-01-01T00:00:00Z", "connectorStatus": "Available",
                  "evseId": 1, "connectorId": 1}
        with pytest.raises(CallTimeout):  # dropped: nobody answers
            await station.call("StatusNotification", status, timeout=0.3)
        assert (await station.call("BootNotification", BOOT))["status"] == "Accepted"
        with pytest.raises(CallErrorReceived) as down:
            await csms.connections["CS-1"].call("Reset", {"type": "Immediate"})
        assert down.value.code == "SecurityError"
    assert [a for _, a, _, _ in recorder.seen] == ["BootNotification"]
    assert node.router.counters["dropped"] == 1 and node.router.counters["rejected"] == 2


async def test_several_upstreams_each_get_their_own_traffic() -> None:
    """CSMS-1 gets the stations' requests; GRID-1 reaches the stations and is reached by
    its own id, and a static route keeps GRID-1-bound frames off the default route."""
    csms_rec, grid_rec = Recorder(), Recorder()
    calls: list[tuple[str, dict[str, Any]]] = []
    async with overlay_csms(csms_rec) as csms, overlay_csms(grid_rec, "GRID-1") as grid:
        config = node_config(
            "NODE-A",
            [upstream("CSMS-1", csms.port), upstream("GRID-1", grid.port)],
            routes=[{"destination": "GRID-1", "via": "GRID-1"}],
            announce_interval=0.3,
        )
        async with running_node(config) as node, connect_station(
            station_url(node), "CS-1", handlers=station_handlers(calls), backoff=None
        ) as station:
            await station.call("BootNotification", BOOT)
            assert [s for s, _, _ in csms_rec.actions("BootNotification")] == ["CS-1"]
            await until(lambda: "CS-1" in grid.connections, "CS-1 announced to GRID-1")
            limit = {"evseId": 0, "chargingProfile": {
                "id": 9, "stackLevel": 1, "chargingProfilePurpose": "ChargingStationMaxProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": [{"id": 9, "chargingRateUnit": "W",
                                      "chargingSchedulePeriod": [{"startPeriod": 0,
                                                                  "limit": 4200.0}]}]}}
            assert await grid.connections["CS-1"].call("SetChargingProfile", limit) == {
                "status": "Accepted"}
            assert calls == [("SetChargingProfile", limit)]

            to_grid = [2, "GRID-1", "NODE-C", "g1", "DataTransfer", {"vendorId": "grid"}]
            answer = await overlay_request(node.port, "NODE-C", to_grid)
            assert answer[0] == 3 and answer[4] == {"status": "Accepted", "data": "NODE-C"}
            [(source, path, _)] = grid_rec.actions("DataTransfer")
            assert (source, path) == ("NODE-C", ("NODE-C", "NODE-A"))
            assert csms_rec.actions("DataTransfer") == []

            await grid.close()
            await until(lambda: node.upstreams["GRID-1"].state != "up", "GRID-1 seen down")
            held = await overlay_request(node.port, "NODE-C", [*to_grid[:3], "g2", *to_grid[4:]])
            assert held[0] == 4 and held[4] == "NetworkingError"
            assert "GRID-1 unavailable" in held[5]
            assert csms_rec.actions("DataTransfer") == []  # not sent down the default route


async def test_plain_csms_gets_one_link_per_station_through_the_fallback() -> None:
    recorder = Recorder()
    calls: list[tuple[str, dict[str, Any]]] = []
    plain = await serve_csms(recorder.handlers)  # no overlay support: does not echo the header
    try:
        async with running_node(
            node_config("NODE-A", [upstream("CSMS", plain.port, mode="auto")])
        ) as node:
            assert node.upstreams["CSMS"].state == "fallback"
            async with connect_station(
                station_url(node), "CS-1", handlers=station_handlers(calls), backoff=None
            ) as one, connect_station(station_url(node), "CS-2", backoff=None) as two:
                assert (await one.call("BootNotification", BOOT))["status"] == "Accepted"
                assert (await two.call("BootNotification", BOOT))["status"] == "Accepted"
                assert sorted(plain.connections) == ["CS-1", "CS-2"]
                assert all(p == () for _, _, p, _ in recorder.seen)  # plain: no path at all
                answer = await plain.connections["CS-1"].call("Reset", {"type": "Immediate"})
                assert answer == {"status": "Accepted"} and calls == [
                    ("Reset", {"type": "Immediate"})]
                assert node.snapshot()["upstreams"][0]["stations"] == ["CS-1", "CS-2"]
            await until(lambda: not plain.connections, "station sockets closed upstream")
    finally:
        await plain.close()


async def test_overlay_mode_upstream_refuses_to_fall_back() -> None:
    plain = await serve_csms(Recorder().handlers)
    try:
        async with running_node(
            node_config("NODE-A", [upstream("CSMS", plain.port, mode="overlay")]), wait_up=False
        ) as node:
            await until(lambda: node.upstreams["CSMS"].last_error is not None, "refused")
            assert node.upstreams["CSMS"].state == "down"
            assert "overlay" in (node.upstreams["CSMS"].last_error or "")
    finally:
        await plain.close()


async def test_snapshot_over_http() -> None:
    recorder = Recorder()
    async with overlay_csms(recorder) as csms, running_node(
        node_config("NODE-A", [upstream("CSMS-1", csms.port)], http_port=0)
    ) as node, connect_station(station_url(node), "CS-1", backoff=None) as station:
        await station.call("BootNotification", BOOT)
        assert node.http is not None
        url = f"{node.http.url}/api/node"
        body = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=5).read())
        data = json.loads(body)
        assert data["nodeId"] == "NODE-A"
        assert {link["remoteId"] for link in data["links"]} == {"CS-1", "CSMS-1"}
        assert data["upstreams"][0]["state"] == "up"
        routes = {(r["destination"], r["origin"]) for r in data["routes"]}
        assert {("CS-1", "connected"), ("CSMS", "static"), ("*default*", "static")} <= routes


async def test_fallback_answers_made_by_the_node_go_back_on_the_askers_socket() -> None:
    """A refusal by the node (PATH[0] = the node) must not open a socket named after it."""
    plain = await serve_csms(Recorder().handlers)
    try:
        async with running_node(
            node_config("NODE-A", [upstream("CSMS", plain.port, mode="auto")])
        ) as node:
            node.router.guards.append(lambda call, _: "no" if call.action == "Reset" else None)
            async with connect_station(
                station_url(node), "CS-1", handlers=station_handlers(), backoff=None
            ) as station:
                await station.call("BootNotification", BOOT)
                with pytest.raises(CallErrorReceived) as info:
                    await plain.connections["CS-1"].call("Reset", {"type": "Immediate"})
                assert info.value.code == "SecurityError"
                assert sorted(plain.connections) == ["CS-1"]
    finally:
        await plain.close()


async def test_fallback_socket_closed_by_the_csms_is_opened_again() -> None:
    plain = await serve_csms(Recorder().handlers)
    try:
        async with running_node(
            node_config("NODE-A", [upstream("CSMS", plain.port, mode="auto")])
        ) as node, connect_station(
            station_url(node), "CS-1", handlers=station_handlers(), backoff=None
        ):
            await until(lambda: "CS-1" in plain.connections, "socket opened on connect")
            first = plain.links["CS-1"]
            await first.close(1001, "CSMS restarting this station's session")
            await until(lambda: plain.links.get("CS-1") not in (None, first), "socket reopened")
            answer = await plain.connections["CS-1"].call("Reset", {"type": "Immediate"})
            assert answer == {"status": "Accepted"}
    finally:
        await plain.close()
