"""NotifyNetworkTopology: parsing, applying (full state, claim rule, ttl), building."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ocppnet.routing import (
    CSMS,
    DEFAULT_ROUTE,
    LinkInfo,
    RoutingTable,
    TopologyOutcome,
    TopologyRejection,
    build_announcement,
)
from ocppnet.routing.topology import parse_announcement


def payload(node: str, routes: list[tuple[str, int, int, int]], stamp: str) -> dict[str, Any]:
    return {
        "networkTopologyInformation": {
            "routingNode": node,
            "routes": [
                {"destination": d, "priority": p, "weight": w, "ttlSeconds": t}
                for d, p, w, t in routes
            ],
            "timestamp": stamp,
        }
    }


T0 = "2025-03-01T10:00:00Z"
T1 = "2025-03-01T10:01:00Z"


@pytest.fixture
def table() -> RoutingTable:
    t = RoutingTable()
    t.add_link(LinkInfo("up", "overlay", "CSMS-1", "upstream"))
    t.add_link(LinkInfo("b", "overlay", "NODE-B", "downstream"))
    t.add_link(LinkInfo("c", "overlay", "NODE-C", "downstream"))
    t.add_link(LinkInfo("s1", "standard", "CS-1"))
    return t


def test_announcement_installs_routes_with_ttl(table: RoutingTable) -> None:
    out = table.apply_topology(payload("NODE-B", [("CS-5", 2, 3, 30)], T0), "b", 100.0)
    assert out == TopologyOutcome(("CS-5",), (), ())
    (route,) = table.routes("CS-5", 100.0)
    assert (route.link, route.origin, route.priority, route.weight) == ("b", "topology", 2, 3)
    assert route.expires_at == 130.0
    assert table.lookup("CS-5", 130.0) is None


def test_next_announcement_replaces_the_previous_one(table: RoutingTable) -> None:
    table.apply_topology(payload("NODE-B", [("CS-5", 0, 1, 30), ("CS-6", 0, 1, 30)], T0), "b", 0)
    out = table.apply_topology(
        payload("NODE-B", [("CS-6", 0, 1, 30), ("CS-5", 0, 1, 0)], T1), "b", 1
    )
    assert out == TopologyOutcome(("CS-6",), ("CS-5",), ())
    assert table.routes("CS-5", 1.0) == []


def test_stale_announcement_rejected(table: RoutingTable) -> None:
    table.apply_topology(payload("NODE-B", [("CS-5", 0, 1, 30)], T1), "b", 0)
    out = table.apply_topology(payload("NODE-B", [], T0), "b", 1)
    assert isinstance(out, TopologyRejection)
    assert [r.destination for r in table.routes("CS-5", 1.0)] == ["CS-5"]


def test_claim_rule_applies_per_destination(table: RoutingTable) -> None:
    table.learn("GRID-1", "up", 0.0)
    routes = [
        ("CS-1", 0, 1, 30),
        ("GRID-1", 0, 1, 30),
        (CSMS, 0, 1, 30),
        ("*", 0, 1, 30),
        ("CS-5", 0, 1, 30),
    ]
    out = table.apply_topology(payload("NODE-B", routes, T0), "b", 0)
    assert isinstance(out, TopologyOutcome)
    assert out.accepted == ("CS-5",)
    assert [d for d, _ in out.refused] == ["CS-1", "GRID-1", CSMS, "*"]


def test_upstream_may_announce_csms_and_default(table: RoutingTable) -> None:
    routes = [(CSMS, 0, 1, 30), (DEFAULT_ROUTE, 0, 1, 30)]
    out = table.apply_topology(payload("CSMS-1", routes, T0), "up", 0)
    assert out == TopologyOutcome((CSMS, DEFAULT_ROUTE), (), ())
    assert table.lookup("ANYONE", 1.0).link == "up"  # type: ignore[union-attr]


def test_routing_node_must_be_the_links_peer(table: RoutingTable) -> None:
    out = table.apply_topology(payload("NODE-C", [("CS-5", 0, 1, 30)], T0), "b", 0)
    assert isinstance(out, TopologyRejection) and out.error_code == "SecurityError"
    assert table.routes("CS-5", 0.0) == []


def test_standard_or_unknown_link_cannot_announce(table: RoutingTable) -> None:
    for link in ("s1", "nope"):
        out = table.apply_topology(payload("CS-1", [("CS-5", 0, 1, 30)], T0), link, 0)
        assert isinstance(out, TopologyRejection) and out.error_code == "SecurityError"


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda p: p.pop("networkTopologyInformation"), "networkTopologyInformation"),
        (lambda p: p["networkTopologyInformation"].update(routingNode=""), "routingNode"),
        (lambda p: p["networkTopologyInformation"].update(timestamp="yesterday"), "timestamp"),
        (lambda p: p["networkTopologyInformation"].update(timestamp="2025-01-01T00:00:00"), "zone"),
        (lambda p: p["networkTopologyInformation"].update(routes={}), "routes"),
        (lambda p: p["networkTopologyInformation"]["routes"].append(3), "routes[1]"),
        (lambda p: p["networkTopologyInformation"]["routes"][0].update(weight=0), "weight"),
        (lambda p: p["networkTopologyInformation"]["routes"][0].update(priority=True), "priority"),
        (lambda p: p["networkTopologyInformation"]["routes"][0].pop("ttlSeconds"), "ttlSeconds"),
        (
            lambda p: p["networkTopologyInformation"]["routes"][0].update(destination=1),
            "destination",
        ),
    ],
)
def test_malformed_announcement_is_a_format_violation(mutate: Any, fragment: str) -> None:
    data = payload("NODE-B", [("CS-5", 0, 1, 30)], T0)
    mutate(data)
    out = parse_announcement(data)
    assert isinstance(out, TopologyRejection) and out.error_code == "FormatViolation"
    assert fragment in out.description


def test_build_announcement_round_trips(table: RoutingTable) -> None:
    table.learn("CS-9", "b", 0.0)
    stamp = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
    built = build_announcement(
        "NODE-A", table.downstream_destinations(0.0), ttl_seconds=90, timestamp=stamp
    )
    assert built["networkTopologyInformation"]["timestamp"] == "2025-03-01T10:00:00Z"
    parsed = parse_announcement(built)
    assert not isinstance(parsed, TopologyRejection)
    assert [r.destination for r in parsed.routes] == ["CS-1", "CS-9", "NODE-B", "NODE-C"]
    assert {r.ttl_seconds for r in parsed.routes} == {90}
