"""``[participant]``: who the process is on the overlay and where it connects; and reading a
participant's whole TOML file (``[participant]``, ``[security]``, ``[api]``, its own table).

```toml
[participant]
id = "GRID-OP"
version = "2.0.1"
http_port = 8300
[[participant.upstreams]]
id = "CSMS-1"
url = "ws://127.0.0.1:9000/ocpp"
password = "..."
priority = 0            # the lowest value that is up carries the traffic
[[participant.upstreams]]
id = "NODE-A"
url = "wss://10.0.0.2:9100/ocpp"
tls_ca = "ca.pem"
priority = 1            # used while CSMS-1 is down
```
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from pydantic import Field, field_validator, model_validator

from ocppnet.config import RelPath, Section, parse_section, read_toml
from ocppnet.errors import ConfigError
from ocppnet.node.config import UpstreamConfig, WsUrl
from ocppnet.routing import is_node_id
from ocppnet.rpc.versions import subprotocol_for_version
from ocppnet.security.context import SecurityContext
from ocppnet.security.settings import SecuritySection, build_security

__all__ = [
    "ParticipantFile",
    "ParticipantSection",
    "UpstreamSection",
    "load_participant_config",
]

A = TypeVar("A", bound=Section)


def _node_id(value: str) -> str:
    if not is_node_id(value):
        raise ValueError(f"{value!r} is not a valid node id (reserved or empty)")
    return value


class UpstreamSection(Section):
    """One overlay upstream: a CSMS or a networking node that accepts overlay links."""

    id: str = Field(description="the upstream's node id (its link id here)")
    url: WsUrl = Field(description="ws:// or wss:// address of its OCPP endpoint")
    password: str | None = Field(None, description="Basic-auth password (profiles 1 and 2)")
    tls_ca: RelPath | None = Field(None, description="CA file for a wss:// upstream")
    tls_cert: RelPath | None = Field(None, description="client certificate (profile 3)")
    tls_key: RelPath | None = Field(None, description="client key (profile 3)")
    priority: int = Field(0, description="lower wins while up; higher ones are fail-over")

    @model_validator(mode="after")
    def _tls(self) -> UpstreamSection:
        if self.url.startswith("wss://") and self.tls_ca is None:
            raise ValueError("tls_ca is needed for a wss:// upstream")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        return self

    def link_config(self, version: str) -> UpstreamConfig:
        """The node layer's upstream configuration (overlay mode only: a participant has no
        stations of its own to fall back with)."""
        return UpstreamConfig(
            id=self.id, url=self.url, mode="overlay", password=self.password,
            tls_ca=None if self.tls_ca is None else str(self.tls_ca),
            tls_cert=None if self.tls_cert is None else str(self.tls_cert),
            tls_key=None if self.tls_key is None else str(self.tls_key),
            subprotocols=(subprotocol_for_version(version),), priority=self.priority,
        )


class ParticipantSection(Section):
    """``[participant]``: the process's overlay identity, upstreams and HTTP address."""

    id: str = Field(description="this participant's overlay id (e.g. GRID-OP)")
    version: Literal["2.0.1", "2.1", "1.6"] = Field(
        "2.0.1", description="OCPP version of its overlay links (2.1 for SEND frames)")
    upstreams: tuple[UpstreamSection, ...] = Field(
        description="overlay upstreams, [[participant.upstreams]]; at least one")
    http_host: str = Field("127.0.0.1", description="address of its HTTP API")
    http_port: int | None = Field(None, description="port of its HTTP API (0: any; none: off)")
    call_timeout: float = Field(30.0, description="seconds to wait for an answer")
    request_timeout: float = Field(60.0, description="seconds the router keeps a request")

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _node_id(value)

    @field_validator("upstreams")
    @classmethod
    def _upstreams(cls, value: tuple[UpstreamSection, ...]) -> tuple[UpstreamSection, ...]:
        if not value:
            raise ValueError("at least one [[participant.upstreams]] is needed")
        ids = [u.id for u in value]
        if len(set(ids)) != len(ids):
            raise ValueError("upstream ids must be unique")
        return value

    @field_validator("http_port")
    @classmethod
    def _port(cls, value: int | None) -> int | None:
        if value is not None and not 0 <= value <= 65535:
            raise ValueError("must be 0..65535")
        return value

    @field_validator("call_timeout", "request_timeout")
    @classmethod
    def _positive(cls, value: float) -> float:
        if not value > 0:
            raise ValueError("must be > 0")
        return value


@dataclass(frozen=True, slots=True)
class ParticipantFile(Generic[A]):
    """A participant's TOML file, read and checked."""

    source: str
    participant: ParticipantSection
    security: SecurityContext | None
    """None when the file has no ``[security]`` table."""
    app: A | None
    """The application's own table (None when the application declared none)."""
    document: dict[str, Any]
    """The whole parsed file, for further tables (e.g. ``[api]``)."""

    def section(self, model: type[Section], key: str) -> Any:
        """Another table of the file as ``model`` (defaults when absent)."""
        return parse_section(model, self.document.get(key), source=self.source, where=key,
                             base=Path(self.source).parent)


def load_participant_config(
    path: str | Path,
    app_model: type[A] | None = None,
    app_key: str | None = None,
    *,
    other_tables: tuple[str, ...] = ("api",),
) -> ParticipantFile[A]:
    """Read ``[participant]``, ``[security]`` and ``[app_key]`` (as ``app_model``) of one file.

    Unknown top-level tables are errors (``other_tables`` are allowed and left to the caller
    through :meth:`ParticipantFile.section`); every error names the file and the key."""
    source = str(path)
    document = read_toml(path)
    base = Path(path).parent
    allowed = {"participant", "security", *other_tables}
    if app_key is not None:
        allowed.add(app_key)
    unknown = sorted(set(document) - allowed)
    if unknown:
        raise ConfigError(f"{source}: {unknown[0]}: unknown table "
                          f"(expected {', '.join(sorted(allowed))})")
    if "participant" not in document:
        raise ConfigError(f"{source}: participant: missing [participant] table")
    participant = parse_section(ParticipantSection, document["participant"], source=source,
                                where="participant", base=base)
    security = None
    if "security" in document:
        section = parse_section(SecuritySection, document["security"], source=source,
                                where="security", base=base)
        security = build_security(section, source=source)
    app = None
    if app_model is not None and app_key is not None:
        app = parse_section(app_model, document.get(app_key), source=source, where=app_key,
                            base=base)
    return ParticipantFile(source, participant, security, app, document)
