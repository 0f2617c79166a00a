"""One overlay link carries one OCPP version; stations of other versions behind the node are
announced with their version first, so the CSMS validates each with its own schemas."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from ocppnet.routing import build_announcement
from ocppnet.routing.links import LinkInfo
from ocppnet.routing.table import RoutingTable
from ocppnet.transport import Connection, connect_station
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

BOOT_16 = {"chargePointVendor": "ocppnet", "chargePointModel": "M16"}


def test_announcement_carries_versions_and_the_table_reports_them() -> None:
    table = RoutingTable()
    table.add_link(LinkInfo("A#1", "overlay", "NODE-A", "downstream"))
    payload = build_announcement(
        "NODE-A", ["CS-1", "CS-2"], ttl_seconds=60, timestamp=datetime.now(UTC),
        versions={"CS-1": "1.6"},
    )
    routes = payload["networkTopologyInformation"]["routes"]
    assert routes[0]["ocppVersion"] == "1.6" and "ocppVersion" not in routes[1]
    outcome = table.apply_topology(payload, "A#1", now=0.0)
    assert not isinstance(outcome, type(None))
    assert getattr(outcome, "versions", ()) == (("CS-1", "1.6"),)


def test_an_unknown_version_in_an_announcement_is_refused_naming_the_field() -> None:
    table = RoutingTable()
    table.add_link(LinkInfo("A#1", "overlay", "NODE-A", "downstream"))
    payload = build_announcement(
        "NODE-A", ["CS-1"], ttl_seconds=60, timestamp=datetime.now(UTC), versions={"CS-1": "9"}
    )
    outcome = table.apply_topology(payload, "A#1", now=0.0)
    assert outcome.error_code == "FormatViolation"  # type: ignore[union-attr]
    assert "routes[0].ocppVersion" in outcome.description  # type: ignore[union-attr]


async def test_a_16_and_a_201_station_share_one_201_overlay_link() -> None:
    recorder = Recorder()
    calls: list[tuple[str, dict[str, object]]] = []
    async with overlay_csms(recorder) as csms, running_node(
        node_config("NODE-A", [upstream("CSMS-1", csms.port)])
    ) as node:
        old = connect_station(station_url(node), "CS-16", backoff=None,
                              subprotocols=["ocpp1.6"], handlers=station_handlers(calls))
        new = connect_station(station_url(node), "CS-201", backoff=None,
                              subprotocols=["ocpp2.0.1"])
        conn_old: Connection = await old.start()
        conn_new: Connection = await new.start()
        try:
            answers = await asyncio.gather(
                conn_old.call("BootNotification", BOOT_16), conn_new.call("BootNotification", BOOT)
            )
            assert [a["status"] for a in answers] == ["Accepted", "Accepted"]
            assert csms.connections["CS-16"].version == "1.6"
            assert csms.connections["CS-201"].version == "2.0.1"
            assert list(csms.router.links) == ["NODE-A#1"]
            # the CSMS calls the 1.6 station with a 1.6 payload (validated as 1.6 both ways)
            reply = await csms.connections["CS-16"].call("Reset", {"type": "Hard"})
            assert reply == {"status": "Accepted"}
            await until(lambda: calls == [("Reset", {"type": "Hard"})], "1.6 Reset")
        finally:
            await asyncio.gather(old.close(), new.close())


async def test_a_16_station_two_nodes_down_is_announced_ahead_of_its_messages() -> None:
    """NODE-B announces CS-16's version to NODE-A, which re-announces it to the CSMS before
    answering, so the station's first BootNotification is already checked as 1.6."""
    recorder = Recorder()
    async with overlay_csms(recorder) as csms, running_node(
        node_config("NODE-A", [upstream("CSMS-1", csms.port)])
    ) as node_a, running_node(
        node_config("NODE-B", [upstream("NODE-A", node_a.port)])
    ) as node_b:
        client = connect_station(station_url(node_b), "CS-16", backoff=None,
                                 subprotocols=["ocpp1.6"], handlers=station_handlers())
        conn: Connection = await client.start()
        try:
            answer = await conn.call("BootNotification", BOOT_16)
            assert answer["status"] == "Accepted"
            assert csms.connections["CS-16"].version == "1.6"
            boots = recorder.actions("BootNotification")
            assert boots == [("CS-16", ("CS-16", "NODE-B", "NODE-A"), BOOT_16)]
            reply = await csms.connections["CS-16"].call("Reset", {"type": "Soft"})
            assert reply == {"status": "Accepted"}
        finally:
            await client.close()
