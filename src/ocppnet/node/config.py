"""A networking node's configuration: one TOML file, parsed into typed objects.

Every error names the file and the key (``node.upstreams[0].url: missing``). See docs/node.md
for an annotated example.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

from ocppnet.config import parse_section
from ocppnet.errors import ConfigError
from ocppnet.loadmgmt.allocator import Hysteresis
from ocppnet.loadmgmt.config import LoadConfig
from ocppnet.node.mirror_config import MirrorSection
from ocppnet.plausibility.config import PlausibilityConfig
from ocppnet.plausibility.config import parse_config as parse_plausibility
from ocppnet.routing import DEFAULT_ROUTE, ForwardingFilter, is_node_id
from ocppnet.rpc.versions import SUBPROTOCOLS

UpstreamMode = Literal["overlay", "standard", "auto"]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class UpstreamConfig:
    """One upstream peer: a CSMS, a grid operator's or an analytics service's endpoint."""

    id: str
    url: str
    mode: UpstreamMode = "auto"
    password: str | None = None
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    subprotocols: tuple[str, ...] = ("ocpp2.0.1",)
    routes: tuple[str, ...] = ()
    """Destinations routed via this upstream (``CSMS``, ``*default*``, node ids)."""
    priority: int = 0
    weight: int = 1
    station_passwords: Mapping[str, str] = field(default_factory=dict)
    """Per-station passwords for the standard-mode fallback (a plain CSMS)."""


@dataclass(frozen=True, slots=True)
class StaticRoute:
    destination: str
    via: str
    priority: int = 0
    weight: int = 1


@dataclass(frozen=True, slots=True)
class NodeConfig:
    id: str
    host: str = "127.0.0.1"
    port: int = 0
    security_profile: int = 0
    passwords: Mapping[str, str] = field(default_factory=dict)
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_ca: str | None = None
    subprotocols: tuple[str, ...] = ("ocpp2.0.1", "ocpp2.1", "ocpp1.6")
    hop_limit: int = 16
    learned_ttl: float = 300.0
    request_timeout: float = 60.0
    announce_interval: float = 30.0
    queue: str | None = None
    http_host: str = "127.0.0.1"
    http_port: int | None = None
    upstreams: tuple[UpstreamConfig, ...] = ()
    routes: tuple[StaticRoute, ...] = ()
    filters: ForwardingFilter = field(default_factory=ForwardingFilter)
    load_management: LoadConfig | None = None
    """``[node.load_management]``: share the grid connection among charging EVSEs."""
    plausibility: PlausibilityConfig | None = None
    """``[node.plausibility]``: check what stations report before forwarding it."""
    mirror: MirrorSection | None = None
    """``[node.mirror]``: copy station telemetry to an analytics participant."""


_NODE_KEYS = {
    "id", "host", "port", "security_profile", "passwords", "tls_cert", "tls_key", "tls_ca",
    "subprotocols", "hop_limit", "learned_ttl", "request_timeout", "announce_interval",
    "queue", "http_host", "http_port", "upstreams", "routes", "filters", "load_management",
    "plausibility", "mirror",
}
_LOAD_KEYS = {
    "capacity_w", "reserve_w", "evse_min_w", "evse_max_w", "idle_limit_w", "margin_w",
    "interval_s", "hysteresis_w", "hysteresis_rel", "stack_level",
}
_UPSTREAM_KEYS = {
    "id", "url", "mode", "password", "tls_ca", "tls_cert", "tls_key", "subprotocols",
    "routes", "priority", "weight", "station_passwords",
}
_ROUTE_KEYS = {"destination", "via", "priority", "weight"}


class _Reader:
    """Typed access to one TOML table; errors carry ``file: key.path: problem``."""

    def __init__(self, table: Mapping[str, Any], where: str, source: str) -> None:
        self.table = table
        self.where = where
        self.source = source

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.source}: {self.where}.{key}: {problem}")

    def check_keys(self, allowed: set[str]) -> None:
        unknown = sorted(set(self.table) - allowed)
        if unknown:
            raise self.fail(unknown[0], f"unknown key (allowed: {', '.join(sorted(allowed))})")

    def _typed(self, key: str, kind: type[T], default: T) -> T:
        value = self.table.get(key, default)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if value is not None and (
            not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool)
        ):
            raise self.fail(key, f"must be {kind.__name__}, not {type(value).__name__}")
        return cast(T, value)

    def text(self, key: str, default: str) -> str:
        return self._typed(key, str, default)

    def integer(self, key: str, default: int) -> int:
        return self._typed(key, int, default)

    def number(self, key: str, default: float) -> float:
        return self._typed(key, float, default)

    def required(self, key: str) -> str:
        if key not in self.table:
            raise self.fail(key, "missing")
        return self.text(key, "")

    def optional_str(self, key: str) -> str | None:
        if self.table.get(key) is None:
            return None
        return self.text(key, "")

    def positive(self, key: str, default: float) -> float:
        value = self.number(key, default)
        if not value > 0:
            raise self.fail(key, "must be > 0")
        return value

    def port(self, key: str, default: int | None) -> int | None:
        value = self.optional_int(key) if default is None else self.integer(key, default)
        if value is not None and not 0 <= value <= 65535:
            raise self.fail(key, "must be 0..65535")
        return value

    def optional_int(self, key: str) -> int | None:
        if self.table.get(key) is None:
            return None
        return self.integer(key, 0)

    def str_list(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self.table.get(key)
        if value is None:
            return default
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be an array of strings")
        return tuple(value)

    def str_map(self, key: str) -> dict[str, str]:
        value = self.table.get(key, {})
        if not isinstance(value, Mapping) or not all(
            isinstance(v, str) for v in value.values()
        ):
            raise self.fail(key, "must be a table of strings")
        return dict(value)

    def tables(self, key: str) -> list[_Reader]:
        value = self.table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise self.fail(key, "must be an array of tables ([[...]])")
        return [_Reader(v, f"{self.where}.{key}[{i}]", self.source) for i, v in enumerate(value)]


def _subprotocols(reader: _Reader, default: tuple[str, ...]) -> tuple[str, ...]:
    values = reader.str_list("subprotocols", default)
    for value in values:
        if value not in SUBPROTOCOLS:
            raise reader.fail("subprotocols", f"{value!r} is not one of {', '.join(SUBPROTOCOLS)}")
    if not values:
        raise reader.fail("subprotocols", "must not be empty")
    return values


def _upstream(reader: _Reader) -> UpstreamConfig:
    reader.check_keys(_UPSTREAM_KEYS)
    upstream_id = reader.required("id")
    if not is_node_id(upstream_id) and upstream_id != "CSMS":
        raise reader.fail("id", f"{upstream_id!r} is not a valid node id")
    url = reader.required("url")
    if not url.startswith(("ws://", "wss://")):
        raise reader.fail("url", f"{url!r} must start with ws:// or wss://")
    mode = reader.text("mode", "auto")
    if mode not in ("overlay", "standard", "auto"):
        raise reader.fail("mode", f"{mode!r} is not one of overlay, standard, auto")
    if url.startswith("wss://") and reader.optional_str("tls_ca") is None:
        raise reader.fail("tls_ca", "needed for a wss:// upstream")
    return UpstreamConfig(
        id=upstream_id,
        url=url,
        mode=mode,  # type: ignore[arg-type]
        password=reader.optional_str("password"),
        tls_ca=reader.optional_str("tls_ca"),
        tls_cert=reader.optional_str("tls_cert"),
        tls_key=reader.optional_str("tls_key"),
        subprotocols=_subprotocols(reader, ("ocpp2.0.1",)),
        routes=reader.str_list("routes", ()),
        priority=reader.integer("priority", 0),
        weight=_weight(reader),
        station_passwords=reader.str_map("station_passwords"),
    )


def _route(reader: _Reader, upstream_ids: set[str]) -> StaticRoute:
    reader.check_keys(_ROUTE_KEYS)
    via = reader.required("via")
    if via not in upstream_ids:
        raise reader.fail("via", f"{via!r} is not the id of an upstream")
    destination = reader.required("destination")
    if destination != DEFAULT_ROUTE and destination != "CSMS" and not is_node_id(destination):
        raise reader.fail("destination", f"{destination!r} is not a node id")
    return StaticRoute(destination, via, reader.integer("priority", 0), _weight(reader))


def _weight(reader: _Reader) -> int:
    weight = reader.integer("weight", 1)
    if weight < 1:
        raise reader.fail("weight", "must be >= 1")
    return weight


def _load_management(reader: _Reader) -> LoadConfig:
    reader.check_keys(_LOAD_KEYS)
    if "capacity_w" not in reader.table:
        raise reader.fail("capacity_w", "missing (the grid connection's capacity in W)")
    idle = reader.table.get("idle_limit_w", 1_400.0)
    try:
        return LoadConfig(
            capacity_w=reader.number("capacity_w", 0.0),
            reserve_w=reader.number("reserve_w", 0.0),
            evse_min_w=reader.number("evse_min_w", 1_400.0),
            evse_max_w=reader.number("evse_max_w", 22_000.0),
            idle_limit_w=None if idle is False else reader.number("idle_limit_w", 1_400.0),
            margin_w=reader.number("margin_w", 1_000.0),
            interval_s=reader.number("interval_s", 60.0),
            hysteresis=Hysteresis(
                reader.number("hysteresis_w", 500.0), reader.number("hysteresis_rel", 0.05)
            ),
            stack_level=reader.integer("stack_level", 1),
        )
    except ValueError as exc:
        raise ConfigError(f"{reader.source}: {reader.where}: {exc}") from None


def _section(node: Mapping[str, Any], key: str, reader: _Reader) -> Mapping[str, Any] | None:
    value = node.get(key)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise reader.fail(key, "must be a table")
    return value


def parse_config(data: Mapping[str, Any], source: str = "<config>") -> NodeConfig:
    """The ``[node]`` table of a parsed TOML document."""
    node = data.get("node")
    if not isinstance(node, Mapping):
        raise ConfigError(f"{source}: node: missing [node] table")
    reader = _Reader(node, "node", source)
    reader.check_keys(_NODE_KEYS)
    node_id = reader.required("id")
    if not is_node_id(node_id):
        raise reader.fail("id", f"{node_id!r} is not a valid node id")
    profile = reader.integer("security_profile", 0)
    if profile not in (0, 1, 2, 3):
        raise reader.fail("security_profile", "must be 0, 1, 2 or 3")
    passwords = reader.str_map("passwords")
    if profile in (1, 2) and not passwords:
        raise reader.fail("passwords", f"security profile {profile} needs station passwords")
    if profile in (2, 3):
        for key in ("tls_cert", "tls_key") + (("tls_ca",) if profile == 3 else ()):
            if reader.optional_str(key) is None:
                raise reader.fail(key, f"needed for security profile {profile}")
    port = reader.port("port", 0) or 0
    upstreams = tuple(_upstream(r) for r in reader.tables("upstreams"))
    ids = [u.id for u in upstreams]
    if len(set(ids)) != len(ids):
        raise reader.fail("upstreams", "upstream ids must be unique")
    if node_id in ids:
        raise reader.fail(f"upstreams[{ids.index(node_id)}].id", "must differ from node.id")
    routes = tuple(_route(r, set(ids)) for r in reader.tables("routes"))
    filters_section = node.get("filters", {})
    if not isinstance(filters_section, Mapping):
        raise reader.fail("filters", "must be a table")
    try:
        filters = ForwardingFilter.from_config(filters_section, where="node.filters")
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc.description}") from None
    load_section = _section(node, "load_management", reader)
    load = None
    if load_section is not None:
        load = _load_management(_Reader(load_section, "node.load_management", source))
    plausibility_section = _section(node, "plausibility", reader)
    plausibility = None
    if plausibility_section is not None:
        plausibility = parse_plausibility(
            dict(plausibility_section), source=source, where="node.plausibility"
        )
    mirror_section = _section(node, "mirror", reader)
    mirror = None
    if mirror_section is not None:
        mirror = parse_section(MirrorSection, mirror_section, source=source,
                               where="node.mirror")
    hop_limit = reader.integer("hop_limit", 16)
    if not 1 <= hop_limit <= 64:
        raise reader.fail("hop_limit", "must be 1..64")
    return NodeConfig(
        id=node_id,
        host=reader.text("host", "127.0.0.1"),
        port=port,
        security_profile=profile,
        passwords=passwords,
        tls_cert=reader.optional_str("tls_cert"),
        tls_key=reader.optional_str("tls_key"),
        tls_ca=reader.optional_str("tls_ca"),
        subprotocols=_subprotocols(reader, ("ocpp2.0.1", "ocpp2.1", "ocpp1.6")),
        hop_limit=hop_limit,
        learned_ttl=reader.positive("learned_ttl", 300.0),
        request_timeout=reader.positive("request_timeout", 60.0),
        announce_interval=reader.positive("announce_interval", 30.0),
        queue=reader.optional_str("queue"),
        http_host=reader.text("http_host", "127.0.0.1"),
        http_port=reader.port("http_port", None),
        upstreams=upstreams,
        routes=routes,
        filters=filters,
        load_management=load,
        plausibility=plausibility,
        mirror=mirror,
    )


def load_config(path: str | Path) -> NodeConfig:
    """Read and check a node's TOML file; ConfigError names the file and the key."""
    source = str(path)
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{source}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    return parse_config(data, source)
