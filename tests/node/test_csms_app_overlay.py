"""The embedded CSMS app serves networking nodes: stations behind a node are its stations,
stored with their path, and callable; ``overlay_allowed = false`` keeps it plain."""

from __future__ import annotations

from typing import Any

from ocppnet.csms.app import CsmsApp
from ocppnet.csms.config import CsmsConfig
from ocppnet.node.overlay_csms import OverlayCsmsServer
from ocppnet.transport import CsmsServer, connect_station
from tests.node.helpers import (
    BOOT,
    node_config,
    running_node,
    station_handlers,
    station_url,
    until,
    upstream,
)


async def test_stations_behind_a_node_land_in_the_store_with_their_path() -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    async with CsmsApp(CsmsConfig(id="CSMS-1", store=":memory:", port=0)) as app:
        server = await app.serve()
        try:
            assert isinstance(server, OverlayCsmsServer) and server.router.node_id == "CSMS-1"
            async with running_node(
                node_config("NODE-A", [upstream("CSMS-1", server.port)])
            ) as node:
                async with connect_station(
                    station_url(node), "CS-1", handlers=station_handlers(calls), backoff=None
                ) as behind, connect_station(
                    f"ws://127.0.0.1:{server.port}/ocpp", "CS-2", backoff=None
                ) as direct:
                    assert (await behind.call("BootNotification", BOOT))["status"] == "Accepted"
                    assert (await direct.call("BootNotification", BOOT))["status"] == "Accepted"
                    record = await app.store.get_station("CS-1")
                    assert record is not None and record.connected
                    assert record.path == ("CS-1", "NODE-A") and record.vendor == "ocppnet"
                    plain = await app.store.get_station("CS-2")
                    assert plain is not None and plain.path == ("CS-2",)
                    assert await app.reset("CS-1") == {"status": "Accepted"}
                    assert calls == [("Reset", {"type": "Immediate"})]
                # CS-1 left the node (which stays up): its next announcement says so
                await until(lambda: "CS-1" not in app.core.links, "CS-1 detached at the CSMS")
                found = await app.store.get_station("CS-1")
                assert found is not None and not found.connected
        finally:
            await server.close()


async def test_reserved_id_gets_a_default_node_id_and_overlay_can_be_switched_off() -> None:
    async with CsmsApp(CsmsConfig(store=":memory:", port=0)) as app:  # id "CSMS" is reserved
        server = await app.serve()
        try:
            assert isinstance(server, OverlayCsmsServer) and server.router.node_id == "CSMS-1"
        finally:
            await server.close()
    config = CsmsConfig(id="CSMS-1", store=":memory:", port=0, overlay_allowed=False)
    async with CsmsApp(config) as app:
        server = await app.serve()
        try:
            assert isinstance(server, CsmsServer)
            async with running_node(
                node_config("NODE-A", [upstream("CSMS-1", server.port, mode="auto")])
            ) as node, connect_station(station_url(node), "CS-1", backoff=None) as station:
                assert node.upstreams["CSMS-1"].state == "fallback"
                assert (await station.call("BootNotification", BOOT))["status"] == "Accepted"
                record = await app.store.get_station("CS-1")
                assert record is not None and record.path == ()
        finally:
            await server.close()
