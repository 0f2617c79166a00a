"""RoutingTable: precedence, default route, learning, expiry, links, anti-spoofing rule."""

from __future__ import annotations

from collections import Counter

import pytest

from ocppnet.routing import CSMS, DEFAULT_ROUTE, LinkInfo, RoutingTable


def station(link_id: str, station_id: str) -> LinkInfo:
    return LinkInfo(link_id, "standard", station_id, "downstream")


def child(link_id: str, node_id: str) -> LinkInfo:
    return LinkInfo(link_id, "overlay", node_id, "downstream")


def parent(link_id: str, node_id: str) -> LinkInfo:
    return LinkInfo(link_id, "overlay", node_id, "upstream")


@pytest.fixture
def table() -> RoutingTable:
    t = RoutingTable(learned_ttl=100.0)
    t.add_link(parent("up", "CSMS-1"))
    t.add_link(child("b", "NODE-B"))
    t.add_link(child("c", "NODE-C"))
    t.add_link(station("s1", "CS-1"))
    t.add_static(CSMS, "up")
    return t


def test_link_up_adds_connected_route_to_peer(table: RoutingTable) -> None:
    route = table.lookup("CS-1", 0.0)
    assert route is not None and (route.link, route.origin) == ("s1", "connected")
    assert table.lookup("NODE-B", 0.0).link == "b"  # type: ignore[union-attr]


def test_reserved_station_id_refused() -> None:
    with pytest.raises(ValueError, match="reserved"):
        RoutingTable().add_link(station("x", CSMS))


def test_exact_route_then_default(table: RoutingTable) -> None:
    assert table.lookup("GRID-1", 0.0) is None
    table.add_static(DEFAULT_ROUTE, "up")
    assert table.lookup("GRID-1", 0.0).link == "up"  # type: ignore[union-attr]
    assert table.lookup("CS-1", 0.0).link == "s1"  # type: ignore[union-attr]


def test_origin_beats_priority(table: RoutingTable) -> None:
    table.learn("CS-9", "c", 0.0)
    table.add_static("CS-9", "b", priority=50)
    route = table.lookup("CS-9", 0.0)
    assert route is not None and (route.origin, route.link) == ("static", "b")


def test_topology_beats_learned_and_priority_orders_within_origin(table: RoutingTable) -> None:
    table.learn("CS-9", "c", 0.0)
    announce(table, "b", "NODE-B", [("CS-9", 5, 1, 60)], 0.0)
    assert table.lookup("CS-9", 0.0).origin == "topology"  # type: ignore[union-attr]
    table.add_static("GRID-1", "up", priority=10)
    table.add_static("GRID-1", "b", priority=1)
    assert table.lookup("GRID-1", 0.0).link == "b"  # type: ignore[union-attr]


def test_route_via_link_that_is_up_wins_over_better_one_that_is_down(table: RoutingTable) -> None:
    table.add_static("GRID-1", "grid", priority=0)  # configured, not connected yet
    table.add_static("GRID-1", "up", priority=5)  # backup through the CSMS link
    assert table.lookup("GRID-1", 0.0).link == "up"  # type: ignore[union-attr]
    table.remove_link("up")
    held = table.lookup("GRID-1", 0.0)
    assert held is not None and held.link == "grid" and table.link("grid") is None


def test_exact_route_is_not_replaced_by_default_when_excluded(table: RoutingTable) -> None:
    table.add_static(DEFAULT_ROUTE, "up")
    table.learn("CS-7", "b", 0.0)
    assert table.lookup("CS-7", 0.0, exclude="b") is None


def test_weighted_choice_is_stable_per_flow_and_follows_weights() -> None:
    t = RoutingTable()
    t.add_link(parent("u1", "CSMS-A"))
    t.add_link(parent("u2", "CSMS-B"))
    t.add_static(CSMS, "u1", weight=3)
    t.add_static(CSMS, "u2", weight=1)
    picks = Counter(t.lookup(CSMS, 0.0, flow=f"CS-{i}").link for i in range(4000))  # type: ignore[union-attr]
    assert 0.70 < picks["u1"] / 4000 < 0.80
    assert {t.lookup(CSMS, 0.0, flow="CS-17").link for _ in range(20)} == {  # type: ignore[union-attr]
        t.lookup(CSMS, 0.0, flow="CS-17").link  # type: ignore[union-attr]
    }


def test_removing_one_weighted_link_only_moves_its_flows() -> None:
    t = RoutingTable()
    for name in ("u1", "u2", "u3"):
        t.add_link(parent(name, f"CSMS-{name}"))
        t.add_static(CSMS, name)
    before = {f"CS-{i}": t.lookup(CSMS, 0.0, flow=f"CS-{i}").link for i in range(300)}  # type: ignore[union-attr]
    t.remove_link("u3")
    after = {f: t.lookup(CSMS, 0.0, flow=f).link for f in before}  # type: ignore[union-attr]
    assert all(after[f] == before[f] for f in before if before[f] != "u3")
    assert "u3" not in after.values()


def test_learn_refreshes_and_moves(table: RoutingTable) -> None:
    first = table.learn("CS-9", "b", 0.0)
    assert first is not None and first.expires_at == 100.0
    assert table.learn("CS-9", "b", 50.0).expires_at == 150.0  # type: ignore[union-attr]
    table.learn("CS-9", "c", 60.0)
    assert [(r.link, r.origin) for r in table.routes("CS-9", 60.0)] == [("c", "learned")]


def test_learned_expiry_moves_in_steps_of_at_most_a_second(table: RoutingTable) -> None:
    first = table.learn("CS-9", "b", 0.0)
    assert table.learn("CS-9", "b", 0.6) is first  # within a second: the entry stays
    assert table.routes("CS-9", 99.9) and not table.routes("CS-9", 100.0)
    assert table.learn("CS-9", "b", 1.0).expires_at == 101.0  # type: ignore[union-attr]
    short = RoutingTable(learned_ttl=1.0)  # a short ttl: at most half of it
    short.add_link(child("b", "NODE-B"))
    assert short.learn("CS-9", "b", 0.0).expires_at == 1.0  # type: ignore[union-attr]
    assert short.learn("CS-9", "b", 0.4).expires_at == 1.0  # type: ignore[union-attr]
    assert short.learn("CS-9", "b", 0.5).expires_at == 1.5  # type: ignore[union-attr]


def test_learn_never_overrides_connected_or_static(table: RoutingTable) -> None:
    assert table.learn("CS-1", "b", 0.0) is None
    table.add_static("CS-8", "c")
    assert table.learn("CS-8", "b", 0.0) is None
    assert [r.link for r in table.routes("CS-1", 0.0)] == ["s1"]
    assert [r.link for r in table.routes("CS-8", 0.0)] == ["c"]


def test_reserved_ids_and_unknown_links_are_not_learned(table: RoutingTable) -> None:
    for reserved in (CSMS, "*", DEFAULT_ROUTE, ""):
        assert table.learn(reserved, "b", 0.0) is None
    assert table.learn("CS-9", "nope", 0.0) is None


def test_connected_route_evicts_learned_entries(table: RoutingTable) -> None:
    table.learn("CS-5", "b", 0.0)
    table.add_link(station("s5", "CS-5"))
    assert [(r.link, r.origin) for r in table.routes("CS-5", 0.0)] == [("s5", "connected")]


def test_learned_routes_expire(table: RoutingTable) -> None:
    table.learn("CS-9", "b", 0.0)
    assert table.lookup("CS-9", 99.9) is not None
    assert table.lookup("CS-9", 100.0) is None  # dead even before expire() runs
    removed = table.expire(100.0)
    assert [(r.destination, r.origin) for r in removed] == [("CS-9", "learned")]
    assert table.expire(200.0) == []
    assert table.lookup("CS-1", 1e9) is not None  # connected never expires


def test_link_down_drops_its_dynamic_routes_keeps_static(table: RoutingTable) -> None:
    announce(table, "b", "NODE-B", [("CS-10", 0, 1, 60)], 0.0)
    table.learn("CS-9", "b", 0.0)  # after: an announcement forgets unlisted learned ids
    table.add_static("CS-11", "b")
    removed = table.remove_link("b")
    assert sorted(r.destination for r in removed) == ["CS-10", "CS-9", "NODE-B"]
    assert [r.origin for r in table.routes("CS-11", 0.0)] == ["static"]
    assert table.link("b") is None


def test_static_route_cannot_target_broadcast_or_have_zero_weight(table: RoutingTable) -> None:
    with pytest.raises(ValueError):
        table.add_static("*", "up")
    with pytest.raises(ValueError):
        table.add_static("X", "up", weight=0)
    assert table.remove_static(CSMS, "up") and not table.remove_static(CSMS, "up")


# --- anti-spoofing rule ---------------------------------------------------------------


def test_standard_link_carries_only_its_station(table: RoutingTable) -> None:
    assert table.may_reach_via("CS-1", "s1", 0.0)
    assert not table.may_reach_via("CS-2", "s1", 0.0)


def test_overlay_peer_and_new_ids_from_downstream(table: RoutingTable) -> None:
    assert table.may_reach_via("NODE-B", "b", 0.0)
    assert table.may_reach_via("CS-NEW", "b", 0.0)  # how learning starts


def test_connected_id_cannot_be_claimed_elsewhere(table: RoutingTable) -> None:
    assert not table.may_reach_via("CS-1", "b", 0.0)
    assert not table.may_reach_via("NODE-C", "b", 0.0)
    assert not table.may_reach_via("CS-1", "up", 0.0)


def test_static_id_bound_to_its_link(table: RoutingTable) -> None:
    table.add_static("CS-8", "c")
    assert table.may_reach_via("CS-8", "c", 0.0)
    assert not table.may_reach_via("CS-8", "b", 0.0)


def test_learned_id_moves_within_direction_only(table: RoutingTable) -> None:
    table.learn("CS-9", "b", 0.0)
    assert table.may_reach_via("CS-9", "c", 1.0)  # station moved to another child node
    assert not table.may_reach_via("CS-9", "up", 1.0)  # but upstream cannot claim it
    table.learn("GRID-1", "up", 0.0)
    assert not table.may_reach_via("GRID-1", "b", 1.0)
    assert table.may_reach_via("GRID-1", "b", 101.0)  # once the entry aged out


def test_csms_source_only_where_csms_is_routed(table: RoutingTable) -> None:
    assert table.may_reach_via(CSMS, "up", 0.0)
    assert not table.may_reach_via(CSMS, "b", 0.0)
    for reserved in ("*", DEFAULT_ROUTE, ""):
        assert not table.may_reach_via(reserved, "b", 0.0)
    assert not table.may_reach_via("CS-1", "gone", 0.0)


# --- topology --------------------------------------------------------------------------


def announce(
    table: RoutingTable,
    link: str,
    node: str,
    routes: list[tuple[str, int, int, int]],
    now: float,
    stamp: str = "2025-01-01T00:00:00Z",
) -> object:
    payload = {
        "networkTopologyInformation": {
            "routingNode": node,
            "routes": [
                {"destination": d, "priority": p, "weight": w, "ttlSeconds": t}
                for d, p, w, t in routes
            ],
            "timestamp": stamp,
        }
    }
    return table.apply_topology(payload, link, now)


def test_snapshot_is_json_ready(table: RoutingTable) -> None:
    table.learn("CS-9", "b", 0.0)
    rows = {(r["destination"], r["origin"]): r for r in table.snapshot(40.0)}
    assert rows[("CS-9", "learned")] == {
        "destination": "CS-9",
        "link": "b",
        "origin": "learned",
        "priority": 0,
        "weight": 1,
        "expiresIn": 60.0,
        "linkUp": True,
    }
    assert rows[(CSMS, "static")]["expiresIn"] is None
    assert {link["link"] for link in table.links_snapshot()} == {"up", "b", "c", "s1"}


def test_downstream_destinations(table: RoutingTable) -> None:
    table.learn("CS-9", "b", 0.0)
    table.learn("GRID-1", "up", 0.0)
    assert table.downstream_destinations(0.0) == ["CS-1", "CS-9", "NODE-B", "NODE-C"]


def test_announcement_from_below_forgets_learned_ids_it_no_longer_lists(
    table: RoutingTable,
) -> None:
    from datetime import UTC, datetime

    from ocppnet.routing import build_announcement

    table.learn("CS-7", "b", 0.0)
    table.learn("CS-8", "b", 0.0)
    table.learn("X-1", "up", 0.0)
    payload = build_announcement("NODE-B", ["CS-8"], ttl_seconds=60,
                                 timestamp=datetime(2026, 1, 1, tzinfo=UTC))
    table.apply_topology(payload, "b", 1.0)
    assert table.routes("CS-7", 1.0) == []  # left NODE-B
    assert {r.origin for r in table.routes("CS-8", 1.0)} == {"topology", "learned"}
    assert table.lookup("X-1", 1.0).link == "up"  # type: ignore[union-attr]



def test_a_link_going_down_touches_only_its_own_routes() -> None:
    """The link index stays exact through learning, moves, pinning and expiry, so that
    remove_link costs the link's own routes, not the whole table (a front-end losing
    thousands of stations at once)."""
    table = RoutingTable(learned_ttl=10.0)
    for link_id in ("a", "b"):
        table.add_link(child(link_id, "NODE-" + link_id.upper()))
    for i in range(50):
        table.learn(f"CS-{i}", "a" if i % 2 else "b", now=0.0)
    table.learn("CS-1", "b", now=1.0)  # moved from a to b
    table.add_static("CS-3", "a")  # pinned: its learned route goes, the static one stays
    odd_on_a = {f"CS-{i}" for i in range(3, 50, 2)}
    assert table._by_link["a"] == odd_on_a | {"NODE-A"}  # NODE-A: the connected peer
    removed = table.remove_link("a")
    assert {r.destination for r in removed} == odd_on_a - {"CS-3"} | {"NODE-A"}
    assert table._by_link["a"] == {"CS-3"}  # the static route outlives its link
    table.expire(now=100.0)  # every learned route on b is gone from b's index
    assert table._by_link == {"a": {"CS-3"}, "b": {"NODE-B"}}
