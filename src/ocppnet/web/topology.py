"""The network as a graph for the dashboard, from what the CSMS and the nodes know (pure).

Vertices are the CSMS, the nodes (those with a snapshot), other overlay peers (e.g. a grid
operator) and the stations; edges come from the nodes' links (with their mode and state) and
from the record route of each station as the CSMS saw it (``[station, node, ..., last node]``).
Each vertex gets a ``layer``: hops from the CSMS, so the page can draw the chain top-down.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class StationView:
    """A station as the CSMS knows it."""

    station_id: str
    connected: bool
    path: tuple[str, ...]  # record route as seen by the CSMS, the station first


def _key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def build_topology(
    csms_id: str,
    stations: Sequence[StationView],
    nodes: Sequence[Mapping[str, Any]],
    kinds: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``{"vertices": [{id, kind, layer, up}], "edges": [{a, b, mode, up, via}]}``.

    ``nodes`` are :meth:`Router.snapshot`-shaped dicts (``nodeId``, ``links``, ``upstreams``);
    ``kinds`` overrides a vertex's kind (``"peer"`` for a grid operator, say).
    """
    kinds = dict(kinds or {})
    node_ids = {str(n["nodeId"]) for n in nodes}
    vertices: dict[str, dict[str, Any]] = {}
    edges: dict[tuple[str, str], dict[str, Any]] = {}

    def vertex(vid: str, kind: str, up: bool = True) -> None:
        kind = kinds.get(vid, kind)
        if vid == csms_id:
            kind = "csms"
        current = vertices.get(vid)
        if current is None:
            vertices[vid] = {"id": vid, "kind": kind, "up": up}
        else:
            current["up"] = current["up"] or up

    def edge(a: str, b: str, mode: str, up: bool, via: str) -> None:
        key = _key(a, b)
        current = edges.get(key)
        if current is None or (up and not current["up"]) or current["via"] == "csms":
            edges[key] = {"a": a, "b": b, "mode": mode, "up": up, "via": via}

    vertex(csms_id, "csms")
    for node in nodes:
        nid = str(node["nodeId"])
        vertex(nid, "node")
        for link in node.get("links", ()):
            remote = str(link["remoteId"])
            if remote not in vertices:
                guess = "node" if remote in node_ids or link["mode"] == "overlay" else "station"
                vertex(remote, guess)
            edge(nid, remote, str(link["mode"]), True, nid)
        for upstream in node.get("upstreams", ()):
            uid = str(upstream["id"])
            up = upstream.get("state") == "up"
            vertex(uid, "node", up)
            if not up or _key(nid, uid) not in edges:
                edge(nid, uid, "overlay", up, nid)

    for station in stations:
        sid = station.station_id
        if sid in node_ids:
            continue
        vertex(sid, "station", station.connected)
        hops = [h for h in station.path[1:] if h != sid] + [csms_id]
        previous = sid
        for hop in hops:
            vertex(hop, "node")
            key = _key(previous, hop)
            if key not in edges:
                mode = "standard" if previous == sid else "overlay"
                edge(previous, hop, mode, station.connected, "csms")
            elif previous == sid and not station.connected:
                edges[key]["up"] = edges[key]["up"] and station.connected
            previous = hop

    layers = _layers(csms_id, vertices, edges.values())
    for vid, data in vertices.items():
        data["layer"] = layers.get(vid, max(layers.values(), default=0) + 1)
    order = sorted(vertices.values(), key=lambda v: (v["layer"], v["kind"] != "csms", v["id"]))
    return {"vertices": order, "edges": sorted(edges.values(), key=lambda e: (e["a"], e["b"]))}


def _layers(
    root: str, vertices: Mapping[str, Any], edges: Any
) -> dict[str, int]:
    """Hops from ``root`` (breadth first); stations never relay, so the search stops there."""
    neighbours: dict[str, list[str]] = {v: [] for v in vertices}
    for e in edges:
        neighbours[e["a"]].append(e["b"])
        neighbours[e["b"]].append(e["a"])
    layers = {root: 0}
    queue = deque([root])
    while queue:
        current = queue.popleft()
        if vertices[current]["kind"] == "station":
            continue
        for nxt in sorted(neighbours[current]):
            if nxt not in layers:
                layers[nxt] = layers[current] + 1
                queue.append(nxt)
    return layers
