"""A networking node's configuration: the ``[node]`` table of one TOML file, declared once.

:class:`NodeConfig` and its parts are :class:`ocppnet.config.Section` models: unknown keys are
errors and every error names the file and the dotted key (``node.toml:
node.upstreams[0].url: 'http://x' must start with ws:// or wss://``). The load-management
and plausibility sub-tables are their own packages' models. See docs/node.md for the table
of keys (checked against these fields by tests/docs) and examples/node-a.toml.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from ocppnet.config import Section, in_range, parse_section, read_toml
from ocppnet.errors import ConfigError
from ocppnet.grid.config import GridSiteSection
from ocppnet.loadmgmt.config import LoadConfig
from ocppnet.node.mirror_config import MirrorSection
from ocppnet.plausibility.config import PlausibilityConfig
from ocppnet.routing import DEFAULT_ROUTE, ForwardingFilter, is_node_id
from ocppnet.routing.ids import NodeId
from ocppnet.rpc.versions import SUBPROTOCOLS
from ocppnet.transport.options import LinkOptions

UpstreamMode = Literal["overlay", "standard", "auto"]
Port = Annotated[int, in_range(0, 65535)]


def _ws_url(value: str) -> str:
    if not value.startswith(("ws://", "wss://")):
        raise ValueError(f"{value!r} must start with ws:// or wss://")
    return value


WsUrl = Annotated[str, AfterValidator(_ws_url)]
"""A WebSocket URL (``ws://`` or ``wss://``), for every section that dials an upstream."""


def _subprotocols(values: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        if value not in SUBPROTOCOLS:
            raise ValueError(f"{value!r} is not one of {', '.join(SUBPROTOCOLS)}")
    if not values:
        raise ValueError("must not be empty")
    return values


def _weight(value: int) -> int:
    if value < 1:
        raise ValueError("must be >= 1")
    return value


def _positive(value: float) -> float:
    if not value > 0:
        raise ValueError("must be > 0")
    return value


class UpstreamConfig(Section):
    """One upstream peer: a CSMS, a grid operator's or an analytics service's endpoint."""

    id: str = Field(description="the upstream's overlay id (a node id, or `CSMS`)")
    url: WsUrl = Field(description="`ws://` or `wss://` URL")
    mode: UpstreamMode = Field(
        default="auto", description="`overlay`, `standard` (one link per station) or `auto`")
    password: str | None = Field(default=None, description="Basic auth password of this node")
    tls_ca: str | None = Field(
        default=None, validate_default=True, description="CA file; required for `wss://`")
    tls_cert: str | None = Field(default=None, description="client certificate (mutual TLS)")
    tls_key: str | None = Field(default=None, description="client certificate's key")
    subprotocols: tuple[str, ...] = Field(default=("ocpp2.0.1",), description="offered")
    routes: tuple[str, ...] = Field(
        default=(), description="destinations routed this way (`CSMS`, `*default*`, node ids)")
    priority: int = Field(default=0, description="among routes to one destination, higher wins")
    weight: int = Field(default=1, description="share among routes of equal priority (>= 1)")
    station_passwords: dict[str, str] = Field(
        default_factory=dict, description="per-station passwords for the standard fallback")

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not is_node_id(value) and value != "CSMS":
            raise ValueError(f"{value!r} is not a valid node id")
        return value

    @field_validator("tls_ca")
    @classmethod
    def _tls_ca(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and str(info.data.get("url", "")).startswith("wss://"):
            raise ValueError("needed for a wss:// upstream")
        return value

    _subprotocols = field_validator("subprotocols")(_subprotocols)
    _weight = field_validator("weight")(_weight)


class StaticRoute(Section):
    """A configured route: ``destination`` is reached via the upstream ``via``."""

    destination: str = Field(description="a node id, `CSMS` or `*default*`")
    via: str = Field(description="the id of an upstream")
    priority: int = Field(default=0, description="higher wins")
    weight: int = Field(default=1, description="share among routes of equal priority (>= 1)")

    @field_validator("destination")
    @classmethod
    def _destination(cls, value: str) -> str:
        if value != DEFAULT_ROUTE and value != "CSMS" and not is_node_id(value):
            raise ValueError(f"{value!r} is not a node id")
        return value

    _weight = field_validator("weight")(_weight)


class NodeConfig(Section):
    """The ``[node]`` table."""

    id: NodeId = Field(description="this node's id (not `CSMS`, `*`, `*default*`)")
    host: str = Field(default="127.0.0.1", description="downstream listen address")
    port: Port = Field(default=0, description="downstream listen port; 0 = any free port")
    security_profile: int = Field(
        default=0, description="0 plain, 1 Basic, 2 TLS + Basic, 3 mutual TLS")
    passwords: dict[str, str] = Field(
        default_factory=dict, validate_default=True,
        description="station/child id -> Basic password; required for profiles 1, 2")
    tls_cert: str | None = Field(
        default=None, validate_default=True, description="server certificate (profiles 2, 3)")
    tls_key: str | None = Field(
        default=None, validate_default=True, description="server key (profiles 2, 3)")
    tls_ca: str | None = Field(
        default=None, validate_default=True, description="client CA (profile 3)")
    subprotocols: tuple[str, ...] = Field(
        default=("ocpp2.0.1", "ocpp2.1", "ocpp1.6"), description="offered downstream")
    hop_limit: Annotated[int, in_range(1, 64)] = Field(default=16, description="1..64")
    ping_interval: float | None = Field(
        default=20.0, description="seconds between WebSocket pings on every link (none: off)")
    ping_timeout: float | None = Field(
        default=20.0, description="a link whose pong is this late is closed (half-open peer)")
    send_buffer_limit: int | None = Field(
        default=1_048_576, description="bytes waiting for a station that does not read, "
                                       "beyond which its link is closed (none: no bound)")
    learned_ttl: float = Field(default=300.0, description="seconds a learned route lives (> 0)")
    request_timeout: float = Field(
        default=60.0, description="seconds a forwarded request waits before NetworkingError (> 0)")
    announce_interval: float = Field(
        default=30.0, description="seconds between topology announcements (> 0)")
    queue: str | None = Field(
        default=None, description="SQLite file of the store-and-forward queue; none = no queueing")
    http_host: str = Field(default="127.0.0.1", description="JSON introspection endpoint address")
    http_port: Port | None = Field(default=None, description="JSON introspection endpoint port")
    upstreams: tuple[UpstreamConfig, ...] = Field(
        default=(), description="`[[node.upstreams]]`, see below")
    routes: tuple[StaticRoute, ...] = Field(default=(), description="`[[node.routes]]`, see below")
    filters: ForwardingFilter = Field(
        default=ForwardingFilter(),
        description="`default` and `[[node.filters.rules]]` (`action`, `verdict`, "
                    "`direction`, `source`, `dest`); forward all when absent")
    load_management: LoadConfig | None = Field(
        default=None, description="`[node.load_management]`: share the grid connection among EVSEs")
    plausibility: PlausibilityConfig | None = Field(
        default=None, description="`[node.plausibility]`: check what stations report")
    mirror: MirrorSection | None = Field(
        default=None, description="`[node.mirror]`: copy station telemetry to a twin")
    grid: GridSiteSection | None = Field(
        default=None, description="`[node.grid]`: enforce a grid operator's limits here")

    @field_validator("ping_interval", "ping_timeout")
    @classmethod
    def _seconds(cls, value: float | None) -> float | None:
        if value is not None and not value > 0:
            raise ValueError("must be > 0 (or absent)")
        return value

    @field_validator("send_buffer_limit")
    @classmethod
    def _limit(cls, value: int | None) -> int | None:
        if value is not None and value < 65_536:
            raise ValueError("must be >= 65536 bytes (or absent)")
        return value

    def link_options(self) -> LinkOptions:
        """The WebSocket settings of every link of this node."""
        # a peer that missed its pong will not answer a close either: waiting the usual 5 s
        # for the closing handshake would keep a dead link in the table that much longer
        close = 5.0 if self.ping_timeout is None else min(5.0, self.ping_timeout)
        return LinkOptions(ping_interval=self.ping_interval, ping_timeout=self.ping_timeout,
                           close_timeout=close, send_buffer_limit=self.send_buffer_limit)

    @field_validator("security_profile")
    @classmethod
    def _profile(cls, value: int) -> int:
        if value not in (0, 1, 2, 3):
            raise ValueError("must be 0, 1, 2 or 3")
        return value

    @field_validator("passwords")
    @classmethod
    def _passwords(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        profile = info.data.get("security_profile")
        if profile in (1, 2) and not value:
            raise ValueError(f"security profile {profile} needs station passwords")
        return value

    @field_validator("tls_cert", "tls_key", "tls_ca")
    @classmethod
    def _tls(cls, value: str | None, info: ValidationInfo) -> str | None:
        profile = info.data.get("security_profile")
        needed = profile in (2, 3) if info.field_name != "tls_ca" else profile == 3
        if value is None and needed:
            raise ValueError(f"needed for security profile {profile}")
        return value

    _subprotocols = field_validator("subprotocols")(_subprotocols)
    _positive = field_validator("learned_ttl", "request_timeout", "announce_interval")(_positive)


def _cross_checks(config: NodeConfig, source: str) -> None:
    """What one field cannot check alone: upstream ids unique, routes via known upstreams."""

    def fail(key: str, problem: str) -> ConfigError:
        return ConfigError(f"{source}: node.{key}: {problem}")

    ids = [u.id for u in config.upstreams]
    if len(set(ids)) != len(ids):
        raise fail("upstreams", "upstream ids must be unique")
    if config.id in ids:
        raise fail(f"upstreams[{ids.index(config.id)}].id", "must differ from node.id")
    for index, route in enumerate(config.routes):
        if route.via not in ids:
            raise fail(f"routes[{index}].via", f"{route.via!r} is not the id of an upstream")


def parse_config(
    data: dict[str, Any], source: str = "<config>", base: Path | None = None
) -> NodeConfig:
    """The ``[node]`` table of a parsed TOML document."""
    node = data.get("node")
    if node is None:
        raise ConfigError(f"{source}: node: missing [node] table")
    config = parse_section(NodeConfig, node, source=source, where="node", base=base)
    _cross_checks(config, source)
    return config


def load_config(path: str | Path) -> NodeConfig:
    """Read and check a node's TOML file; ConfigError names the file and the key."""
    return parse_config(read_toml(path), str(path), Path(path).parent)
