"""The topology graph built from the CSMS's station paths and the nodes' snapshots (pure)."""

from __future__ import annotations

from typing import Any

from ocppnet.web.topology import StationView, build_topology


def snapshot(node_id: str, links: list[tuple[str, str, str]],
             upstreams: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    return {
        "nodeId": node_id,
        "links": [{"link": f"{r}#1", "remoteId": r, "mode": m, "role": role}
                  for r, m, role in links],
        "upstreams": [{"id": u, "state": s} for u, s in upstreams or []],
    }


CHAIN = [
    snapshot("NODE-A", [("CSMS", "overlay", "upstream"), ("NODE-B", "overlay", "downstream"),
                        ("CS-A1", "standard", "downstream")], [("CSMS", "up")]),
    snapshot("NODE-B", [("NODE-A", "overlay", "upstream"), ("CS-B1", "standard", "downstream")],
             [("NODE-A", "up")]),
]
STATIONS = [
    StationView("CS-A1", True, ("CS-A1", "NODE-A")),
    StationView("CS-B1", True, ("CS-B1", "NODE-B", "NODE-A")),
    StationView("CS-D1", False, ("CS-D1",)),
    StationView("NODE-B", True, ("NODE-B", "NODE-A")),  # a node the CSMS also saw as a peer
]


def by_id(graph: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["id"]: v for v in graph["vertices"]}


def edges(graph: dict[str, Any]) -> dict[frozenset[str], dict[str, Any]]:
    return {frozenset((e["a"], e["b"])): e for e in graph["edges"]}


def test_chain_layers_kinds_and_link_modes() -> None:
    graph = build_topology("CSMS", STATIONS, CHAIN)
    v = by_id(graph)
    assert {k: (x["kind"], x["layer"]) for k, x in v.items()} == {
        "CSMS": ("csms", 0), "NODE-A": ("node", 1), "CS-D1": ("station", 1),
        "NODE-B": ("node", 2), "CS-A1": ("station", 2), "CS-B1": ("station", 3),
    }
    e = edges(graph)
    assert set(e) == {frozenset(p) for p in [("CSMS", "NODE-A"), ("NODE-A", "NODE-B"),
                                             ("NODE-A", "CS-A1"), ("NODE-B", "CS-B1"),
                                             ("CS-D1", "CSMS")]}
    assert e[frozenset(("NODE-A", "NODE-B"))]["mode"] == "overlay"
    assert e[frozenset(("NODE-B", "CS-B1"))]["mode"] == "standard"
    assert graph["vertices"][0]["id"] == "CSMS"


def test_a_disconnected_station_and_a_down_upstream_are_drawn_down() -> None:
    nodes = [snapshot("NODE-A", [], [("CSMS", "connecting")])]
    graph = build_topology("CSMS", [StationView("CS-A1", False, ("CS-A1", "NODE-A"))], nodes)
    e = edges(graph)
    assert e[frozenset(("NODE-A", "CSMS"))]["up"] is False
    assert e[frozenset(("CS-A1", "NODE-A"))]["up"] is False
    assert by_id(graph)["CS-A1"]["up"] is False


def test_node_links_win_over_paths_and_kinds_can_be_overridden() -> None:
    csms = snapshot("CSMS", [("NODE-A", "overlay", "downstream"),
                             ("GRID-OP", "overlay", "downstream")])
    graph = build_topology("CSMS", STATIONS[:2], [csms, *CHAIN], kinds={"GRID-OP": "peer"})
    v = by_id(graph)
    assert v["GRID-OP"]["kind"] == "peer" and v["GRID-OP"]["layer"] == 1
    assert edges(graph)[frozenset(("CSMS", "NODE-A"))]["via"] in ("CSMS", "NODE-A")


def test_no_nodes_no_stations_is_just_the_csms() -> None:
    assert build_topology("CSMS", [], []) == {
        "vertices": [{"id": "CSMS", "kind": "csms", "up": True, "layer": 0}], "edges": []}
