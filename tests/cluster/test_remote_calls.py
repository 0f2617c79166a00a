"""Calls from any front-end: real nats-server, real PostgreSQL, real stations over
WebSocket. A station on front-end A is reached through front-end B's operator API (and
logged once, where it ran); presence follows a reconnect to B; a SIGKILLed front-end's
stations fail fast with a clear error, also for a call already in flight."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from ocppnet.errors import CallErrorReceived, ConnectionClosed, UnknownClient
from tests.cluster.frontends import OP, RO, Station, frontend, held_by, station
from tests.cluster.natsd import NatsServer
from tests.integration import overlay_node, stop_node
from tests.integration.processes import started

pytestmark = pytest.mark.asyncio


async def test_the_operator_api_on_b_reaches_a_station_on_a(
        nats_server: NatsServer, pg_store: str) -> None:
    async with frontend(nats_server.url, pg_store, "fe-a") as a, \
            frontend(nats_server.url, pg_store, "fe-b") as b:
        behaviour = Station()
        async with station(a.url, "CS-1", behaviour):
            await held_by(b, "CS-1", "fe-a")
            answer = await b.http.post("/api/v1/stations/CS-1/reset", headers=OP,
                                       json={"type": "Immediate"})
            assert answer.status_code == 200, answer.text
            assert answer.json() == {"status": "Accepted"}
            assert behaviour.received == [("Reset", {"type": "Immediate"})]

            refused = await b.http.post("/api/v1/stations/CS-1/unlock-connector", headers=OP,
                                        json={"evseId": 1, "connectorId": 1})
            assert refused.status_code == 502
            assert refused.json()["errorCode"] == "NotSupported"
            with pytest.raises(CallErrorReceived, match="NotSupported"):
                await b.app.call("CS-1", "UnlockConnector", {"evseId": 1, "connectorId": 1})

            where = await b.http.get("/api/v1/cluster/stations/CS-1", headers=RO)
            assert where.status_code == 200
            assert where.json()["frontend"] == "fe-a" and where.json()["local"] is False
            assert where.json()["version"] == "2.0.1"
            fes = (await a.http.get("/api/v1/cluster/frontends", headers=RO)).json()
            assert [(f["id"], f["this"]) for f in fes] == [("fe-a", True), ("fe-b", False)]
            assert (await b.http.get("/api/v1/cluster/frontends")).status_code == 401

            # logged once, by the front-end that holds the station (one shared store)
            await a.app.store.flush()
            await b.app.store.flush()
            resets = await a.app.store.list_messages("CS-1", action="Reset")
            assert [(m.direction, m.message_type) for m in resets] == [("in", 3), ("out", 2)]

            metrics = (await b.http.get("/metrics", headers=RO)).text
            assert 'ocppnet_cluster_remote_calls_total{outcome="ok"} 1.0' in metrics
            assert 'ocppnet_cluster_remote_calls_total{outcome="call_error"} 2.0' in metrics
            assert "ocppnet_cluster_presence_lookups_total" in metrics
            served = (await a.http.get("/metrics", headers=RO)).text
            assert 'ocppnet_cluster_served_calls_total{outcome="ok"} 1.0' in served
            assert 'ocppnet_cluster_served_calls_total{outcome="call_error"} 2.0' in served

        missing = await b.http.post("/api/v1/stations/NOPE/reset", headers=OP,
                                    json={"type": "Immediate"})
        assert missing.status_code == 404 and "not connected" in missing.json()["detail"]
        assert (await b.http.get("/api/v1/cluster/stations/NOPE",
                                 headers=RO)).status_code == 404


async def test_presence_moves_with_the_station_and_the_old_link_never_removes_it(
        nats_server: NatsServer, pg_store: str) -> None:
    async with frontend(nats_server.url, pg_store, "fe-a") as a, \
            frontend(nats_server.url, pg_store, "fe-b") as b:
        behaviour = Station()
        async with station(a.url, "CS-2", behaviour):
            await held_by(b, "CS-2", "fe-a")
            # the station comes back on B while A still holds its (half-open) old link
            async with station(b.url, "CS-2", behaviour):
                await held_by(a, "CS-2", "fe-b")
                await b.frontend.flush_presence()
            # ... and only now does A see its old link go: A's delete must not remove B's
            # entry (compare-and-set on A's own revision); and B's link is gone as well
        await a.frontend.flush_presence()
        await b.frontend.flush_presence()
        await held_by(a, "CS-2", None)

        async with station(a.url, "CS-2", behaviour):
            async with station(b.url, "CS-2", behaviour) as on_b:
                await held_by(a, "CS-2", "fe-b")
                await asyncio.sleep(0)
                assert on_b.is_attached
            # the newer link closed first; A's older link is still up but was superseded
            await b.frontend.flush_presence()
            await held_by(a, "CS-2", None)
        async with station(b.url, "CS-2", behaviour):
            await held_by(a, "CS-2", "fe-b")
            answer = await a.app.call("CS-2", "Reset", {"type": "OnIdle"})
            assert answer == {"status": "Accepted"}
            assert behaviour.received[-1] == ("Reset", {"type": "OnIdle"})
            # the app's helpers pick the version of a station held elsewhere too
            assert await a.app.reset("CS-2", immediate=True) == {"status": "Accepted"}
            assert behaviour.received[-1] == ("Reset", {"type": "Immediate"})


async def test_a_sigkilled_frontend_fails_calls_fast_with_a_clear_error(
        nats_server: NatsServer, pg_store: str, tmp_path: Path) -> None:
    async with frontend(nats_server.url, pg_store, "fe-b", probe_s=0.2) as b:
        with started("csms", "--id", "CSMS", "--port", "0", "--no-dashboard",
                     "--store", pg_store, "--bus", nats_server.url,
                     "--frontend-id", "fe-dead") as dead:
            port = int(dead.read_until(r"stations and nodes:\s+ws://127\.0\.0\.1:(\d+)/").group(1))
            dead.read_until(r"bus:\s+nats://")
            behaviour = Station()
            async with station(f"ws://127.0.0.1:{port}", "CS-9", behaviour):
                await held_by(b, "CS-9", "fe-dead")
                assert await b.app.station_version("CS-9") == "2.0.1"
                in_flight = asyncio.create_task(b.app.call(
                    "CS-9", "TriggerMessage", {"requestedMessage": "Heartbeat"}, timeout=60))
                await behaviour.asked.wait()
                dead.kill()
                with pytest.raises(ConnectionClosed, match="fe-dead, which held station CS-9, "
                                                           "went away during TriggerMessage"):
                    await in_flight
                with pytest.raises(UnknownClient, match="station CS-9 was on front-end "
                                                        "fe-dead, which is gone"):
                    await b.app.call("CS-9", "Reset", {"type": "Immediate"})
                answer = await b.http.post("/api/v1/stations/CS-9/reset", headers=OP,
                                           json={"type": "Immediate"})
                assert answer.status_code == 404
                assert "which is gone" in answer.json()["detail"]
                metrics = (await b.http.get("/metrics", headers=RO)).text
                assert 'ocppnet_cluster_remote_calls_total{outcome="gone"}' in metrics
                assert 'ocppnet_cluster_remote_calls_total{outcome="connection_closed"} 1.0' \
                    in metrics


async def test_a_station_behind_a_node_on_a_is_reached_from_b(
        nats_server: NatsServer, pg_store: str) -> None:
    async with frontend(nats_server.url, pg_store, "fe-a") as a, \
            frontend(nats_server.url, pg_store, "fe-b") as b:
        node = overlay_node("NODE-A", "CSMS-1", a.ws_port)
        await node.start()
        try:
            behaviour = Station()
            async with station(f"ws://127.0.0.1:{node.port}/ocpp", "CS-N", behaviour):
                await held_by(b, "CS-N", "fe-a")
                where = (await b.http.get("/api/v1/cluster/stations/CS-N", headers=RO)).json()
                assert where["path"] == ["CS-N", "NODE-A"]
                answer = await b.http.post("/api/v1/stations/CS-N/reset", headers=OP,
                                           json={"type": "Immediate"})
                assert answer.status_code == 200, answer.text
                assert behaviour.received == [("Reset", {"type": "Immediate"})]
        finally:
            await stop_node(node)


async def test_a_clean_stop_leaves_at_once(nats_server: NatsServer, pg_store: str) -> None:
    async with frontend(nats_server.url, pg_store, "fe-b") as b, \
            contextlib.AsyncExitStack() as running_a:
        a = await running_a.enter_async_context(frontend(nats_server.url, pg_store, "fe-a"))
        async with station(a.url, "CS-3"):
            await held_by(b, "CS-3", "fe-a")
            await running_a.aclose()  # fe-a stops while the station is still connected
            fes = (await b.http.get("/api/v1/cluster/frontends", headers=RO)).json()
            assert [f["id"] for f in fes] == ["fe-b"]  # the lease went with the stop
            assert b.frontend.directory is not None
            _revision, entry = await b.frontend.directory.lookup("CS-3")
            assert entry is None  # closing the link on the way out deleted the entry
