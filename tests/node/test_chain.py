"""Real servers on loopback: many stations on one upstream link, two-node chains, loops,
spoofing, filters and several upstreams (issue 3, "Done when")."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from ocppnet.transport import Connection, connect_station, open_link
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


async def test_fifty_stations_share_one_upstream_websocket() -> None:
    recorder = Recorder()
    async with overlay_csms(recorder) as csms, running_node(
        node_config("NODE-A", [upstream("CSMS-1", csms.port)])
    ) as node:
        clients = [
            connect_station(station_url(node), f"CS-{n:02d}", backoff=None) for n in range(50)
        ]
        conns: list[Connection] = list(
            await asyncio.gather(*(client.start() for client in clients))
        )
        try:
            answers = await asyncio.gather(*(c.call("BootNotification", BOOT) for c in conns))
            assert all(a["status"] == "Accepted" for a in answers)
            # the CSMS has exactly one link (the node's), yet one Connection per station
            assert list(csms.router.links) == ["NODE-A#1"]
            assert csms.link_server is not None
            assert csms.link_server.link_count == 1
            assert sorted(csms.connections) == sorted(f"CS-{n:02d}" for n in range(50))
            boots = recorder.actions("BootNotification")
            assert sorted(s for s, _, _ in boots) == sorted(csms.connections)
            assert all(path == (s, "NODE-A") for s, path, _ in boots)
            assert node.snapshot()["upstreams"][0]["state"] == "up"
        finally:
            await asyncio.gather(*(client.close() for client in clients))


async def test_two_node_chain_works_both_directions() -> None:
    """station -> B -> A -> CSMS, and a CSMS call down to the station two nodes away."""
    recorder = Recorder()
    calls: list[tuple[str, dict[str, Any]]] = []
    async with overlay_csms(recorder) as csms, running_node(
        node_config("NODE-A", [upstream("CSMS-1", csms.port)])
    ) as node_a, running_node(
        node_config("NODE-B", [upstream("NODE-A", node_a.port)])
    ) as node_b:
        async with connect_station(
            station_url(node_b), "CS-1", handlers=station_handlers(calls), backoff=None
        ) as station:
            boot = await station.call("BootNotification", BOOT)
            assert boot["status"] == "Accepted"
            [(source, path, _)] = recorder.actions("BootNotification")
            assert (source, path) == ("CS-1", ("CS-1", "NODE-B", "NODE-A"))

            profile = {
                "evseId": 1,
                "chargingProfile": {
                    "id": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
                    "chargingProfileKind": "Absolute",
                    "chargingSchedule": [{
                        "id": 1, "chargingRateUnit": "W",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400.0}],
                    }],
                },
            }
            answer = await csms.connections["CS-1"].call("SetChargingProfile", profile)
            assert answer == {"status": "Accepted"}
            reset = await csms.connections["CS-1"].call("Reset", {"type": "Immediate"})
            assert reset == {"status": "Accepted"}
            assert [a for a, _ in calls] == ["SetChargingProfile", "Reset"]
            assert calls[0][1] == profile
        # NODE-A learned CS-1 behind NODE-B; the CSMS knows it behind NODE-A
        routes_a = {r["destination"]: r for r in node_a.snapshot()["routes"]}
        assert routes_a["NODE-B"]["origin"] == "connected"
        assert node_b.router.counters["rejected"] == 0


async def test_topology_lets_the_csms_call_a_station_that_has_not_spoken_yet() -> None:
    recorder = Recorder()
    calls: list[tuple[str, dict[str, Any]]] = []
    async with overlay_csms(recorder) as csms, running_node(
        node_config("NODE-A", [upstream("CSMS-1", csms.port)], announce_interval=0.3)
    ) as node_a, running_node(
        node_config("NODE-B", [upstream("NODE-A", node_a.port)], announce_interval=0.3)
    ) as node_b:
        async with connect_station(
            station_url(node_b), "CS-9", handlers=station_handlers(calls), backoff=None
        ):
            await until(lambda: "CS-9" in csms.connections, "CS-9 announced up to the CSMS")
            assert csms.connections["CS-9"].remote_id == "CS-9"
            origins = {(r["destination"], r["origin"]) for r in csms.router.snapshot()["routes"]}
            assert ("CS-9", "topology") in origins and ("CS-9", "learned") not in origins
            reset = await csms.connections["CS-9"].call("Reset", {"type": "OnIdle"})
            assert reset == {"status": "Accepted"} and calls == [("Reset", {"type": "OnIdle"})]
        assert recorder.seen == []  # the station never sent a thing


async def test_a_configured_loop_is_cut_with_one_error_not_a_storm() -> None:
    """A ring A -> B -> C -> A (each dials the next) with static routes for X-9 all the way
    round: a frame for X-9 comes back to A, which answers its sender once."""
    x9 = ["X-9"]
    async with running_node(
        node_config("NODE-A", [upstream("NODE-B", 1, routes=x9)]), wait_up=False
    ) as node_a, running_node(
        node_config("NODE-C", [upstream("NODE-A", node_a.port, routes=x9)])
    ) as node_c, running_node(
        node_config("NODE-B", [upstream("NODE-C", node_c.port, routes=x9)])
    ) as node_b:
        up = node_a.upstreams["NODE-B"]
        up.config = up.config.model_copy(update={"url": f"ws://127.0.0.1:{node_b.port}/ocpp"})
        await asyncio.wait_for(up.link_up.wait(), 10)  # the ring is closed
        await _inject_and_expect_loop_error(node_a.port, [node_a, node_b, node_c])


async def _inject_and_expect_loop_error(port: int, nodes: list[Any]) -> None:
    link = await open_link(f"ws://127.0.0.1:{port}/ocpp", "NODE-Z", overlay=True)
    assert link.info.overlay
    frame = [2, "X-9", ["NODE-Z"], "loop-1", "Heartbeat", {}]
    await link.send_text(orjson.dumps(frame))
    reply = orjson.loads(await asyncio.wait_for(anext(aiter(link)), 10))
    await link.close()
    assert reply[0] == 4 and reply[1] == "NODE-Z" and reply[3] == "loop-1"
    assert reply[4] == "NetworkingError" and "loop detected" in reply[5]
    # once round the ring (A, B, C forward once each), then one refusal at A
    assert [n.router.counters["forwarded"] for n in nodes] == [1, 1, 1]
    assert nodes[0].router.counters["rejected"] == 1
