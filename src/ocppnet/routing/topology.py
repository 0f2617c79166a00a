"""NotifyNetworkTopology: parse an announcement and build one (docs/routing.md, "Topology").

An announcement is link-local and full-state: a neighbour tells us every destination it
offers, with priority, weight and a time to live; the next announcement on the same link
replaces it. Parsing is strict and returns an error value, never raises.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ocppnet.rpc.timestamps import format_timestamp, parse_timestamp

ACTION = "NotifyNetworkTopology"
_VERSIONS = ("1.6", "2.0.1", "2.1")


@dataclass(frozen=True, slots=True)
class TopologyRoute:
    destination: str
    priority: int
    weight: int
    ttl_seconds: int
    version: str | None = None
    """The OCPP version the destination speaks, when announced (mixed-version sites)."""


@dataclass(frozen=True, slots=True)
class Announcement:
    routing_node: str
    routes: tuple[TopologyRoute, ...]
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class TopologyRejection:
    """The whole announcement was refused; ``error_code`` is the OCPP code for the reply."""

    error_code: str
    description: str


@dataclass(frozen=True, slots=True)
class TopologyOutcome:
    """What an applied announcement changed: installed, withdrawn (ttl 0) and refused ids."""

    accepted: tuple[str, ...]
    withdrawn: tuple[str, ...]
    refused: tuple[tuple[str, str], ...]
    versions: tuple[tuple[str, str], ...] = ()
    """(destination, OCPP version) for accepted routes that announced one."""


def _int_field(route: Mapping[str, Any], key: str, where: str, minimum: int) -> int | str:
    value = route.get(key)
    if type(value) is not int:
        return f"{where}.{key} must be an integer"
    if value < minimum:
        return f"{where}.{key} must be >= {minimum}"
    return value


def parse_announcement(payload: Mapping[str, Any]) -> Announcement | TopologyRejection:
    """Check the announcement's shape (the JSON schema may already have) and type it."""
    info = payload.get("networkTopologyInformation")
    if not isinstance(info, Mapping):
        return TopologyRejection("FormatViolation", "networkTopologyInformation missing")
    node = info.get("routingNode")
    if not isinstance(node, str) or not node:
        return TopologyRejection("FormatViolation", "routingNode must be a non-empty string")
    stamp = info.get("timestamp")
    timestamp = parse_timestamp(stamp, naive="reject")
    if timestamp is None:
        return TopologyRejection("FormatViolation", "timestamp must be ISO 8601 with a zone")
    raw_routes = info.get("routes")
    if not isinstance(raw_routes, list):
        return TopologyRejection("FormatViolation", "routes must be an array")
    routes: list[TopologyRoute] = []
    for index, raw in enumerate(raw_routes):
        where = f"routes[{index}]"
        if not isinstance(raw, Mapping):
            return TopologyRejection("FormatViolation", f"{where} must be an object")
        dest = raw.get("destination")
        if not isinstance(dest, str) or not dest:
            return TopologyRejection("FormatViolation", f"{where}.destination must be a string")
        fields = [
            _int_field(raw, "priority", where, 0),
            _int_field(raw, "weight", where, 1),
            _int_field(raw, "ttlSeconds", where, 0),
        ]
        for field in fields:
            if isinstance(field, str):
                return TopologyRejection("FormatViolation", field)
        priority, weight, ttl = (int(f) for f in fields)
        version = raw.get("ocppVersion")
        if version is not None and version not in _VERSIONS:
            return TopologyRejection(
                "FormatViolation", f"{where}.ocppVersion must be one of {', '.join(_VERSIONS)}"
            )
        routes.append(TopologyRoute(dest, priority, weight, ttl, version))
    return Announcement(node, tuple(routes), timestamp)


def build_announcement(
    routing_node: str,
    destinations: Iterable[str],
    *,
    ttl_seconds: int,
    timestamp: datetime,
    priority: int = 0,
    weight: int = 1,
    versions: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The NotifyNetworkTopology payload announcing ``destinations`` via ``routing_node``;
    ``versions`` names the OCPP version of destinations that are stations."""
    versions = versions or {}
    return {
        "networkTopologyInformation": {
            "routingNode": routing_node,
            "routes": [
                {
                    "destination": dest,
                    "priority": priority,
                    "weight": weight,
                    "ttlSeconds": ttl_seconds,
                    **({"ocppVersion": versions[dest]} if dest in versions else {}),
                }
                for dest in destinations
            ],
            "timestamp": format_timestamp(timestamp, "auto"),
        }
    }
