"""The grid operator's TOML tables: ``[grid]`` of the DSO service, ``[node.grid]`` of a site.

```toml
# grid.toml (the DSO service; also [participant], [security], [api])
[grid]
heartbeat_period_s = 60
store = "grid-audit.sqlite3"        # or postgresql://user@host/db
[[grid.targets]]
id = "NODE-B"                       # a grid connection point (node) or a station
key = "keys/node-b.pub.pem"         # the key its receipts must be signed with
devices = 3                         # steuVE behind it (BK6-22-300 minimum)

# node-b.toml (the site; also [security])
[node.grid]
operator = "GRID-OP"
signing_key = "node-b"
failsafe_limit_w = 4200
```
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator, model_validator

from ocppnet.config import RelPath, Section
from ocppnet.grid.lpc import LpcSettings
from ocppnet.grid.minimum import guaranteed_minimum_w

__all__ = ["GridSection", "GridSiteSection", "TargetSection"]


def _positive(value: float) -> float:
    if not value > 0:
        raise ValueError("must be > 0")
    return value


class GridSiteSection(Section):
    """``[node.grid]`` (or a station's grid table): enforce a grid operator's limits here."""

    operator: str = Field(description="overlay id of the grid operator (DSO) service")
    operator_role: str = Field(
        "grid-operator", description="role (in the [security] roles) the DSO's key must have")
    signing_key: str = Field(
        description="key store name of the key that signs receipts and measurements")
    heartbeat_timeout_s: float = Field(
        120.0, description="failsafe after this many seconds without a DSO heartbeat")
    failsafe_limit_w: float = Field(4_200.0, description="limit in force during failsafe (W)")
    failsafe_duration_s: float = Field(
        7_200.0, description="how long failsafe holds before unlimited-autonomous (s)")
    controllable_devices: int = Field(
        1, description="steuVE behind this grid connection point (BK6-22-300 minimum)")
    measurement_interval_s: float = Field(
        60.0, description="seconds between GridMeasurement frames to the DSO (0: none)")
    base_load_w: float = Field(
        0.0, description="simulated meter: base load added to the EVSEs' measured power")
    state_file: RelPath | None = Field(
        None, description="JSON file keeping the LPC state and last sequence across restarts "
                          "(none: memory only)")

    @field_validator("heartbeat_timeout_s", "failsafe_duration_s")
    @classmethod
    def _times(cls, value: float) -> float:
        return _positive(value)

    @field_validator("controllable_devices")
    @classmethod
    def _devices(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be >= 1")
        return value

    @field_validator("measurement_interval_s", "base_load_w")
    @classmethod
    def _not_negative(cls, value: float) -> float:
        if value < 0:
            raise ValueError("must be >= 0")
        return value

    @model_validator(mode="after")
    def _failsafe_above_minimum(self) -> GridSiteSection:
        minimum = self.minimum_w
        if self.failsafe_limit_w < minimum:
            raise ValueError(
                f"failsafe_limit_w {self.failsafe_limit_w:g} is below the guaranteed minimum "
                f"{minimum:g} W for {self.controllable_devices} device(s) (BK6-22-300)")
        return self

    @property
    def minimum_w(self) -> float:
        return guaranteed_minimum_w(self.controllable_devices)

    def lpc_settings(self) -> LpcSettings:
        return LpcSettings(
            heartbeat_timeout_s=self.heartbeat_timeout_s, failsafe_limit_w=self.failsafe_limit_w,
            failsafe_duration_s=self.failsafe_duration_s, minimum_w=self.minimum_w)


class TargetSection(Section):
    """One site (grid connection point: a node) or station the DSO may curtail."""

    id: str = Field(description="its overlay id")
    key: RelPath = Field(description="PEM public key its receipts must be signed with")
    devices: int = Field(1, description="steuVE behind it (1: one directly controlled device)")

    @field_validator("devices")
    @classmethod
    def _devices(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be >= 1")
        return value

    @property
    def minimum_w(self) -> float:
        return guaranteed_minimum_w(self.devices)


class GridSection(Section):
    """``[grid]`` of the DSO service."""

    heartbeat_period_s: float = Field(60.0, description="seconds between heartbeats")
    store: str = Field(
        "grid-audit.sqlite3",
        description="audit log: SQLite file (relative to the TOML file) or postgresql:// URL")
    max_duration_s: float = Field(86_400.0, description="longest curtailment accepted (s)")
    measurements_kept: int = Field(500, description="measurements kept in memory per target")
    targets: tuple[TargetSection, ...] = Field(
        (), description="sites and stations, [[grid.targets]]")

    @field_validator("heartbeat_period_s", "max_duration_s")
    @classmethod
    def _times(cls, value: float) -> float:
        return _positive(value)

    @field_validator("targets")
    @classmethod
    def _unique(cls, value: tuple[TargetSection, ...]) -> tuple[TargetSection, ...]:
        ids = [t.id for t in value]
        if len(set(ids)) != len(ids):
            raise ValueError("target ids must be unique")
        return value

    def store_location(self, base: Path | None) -> str:
        """``store`` with a relative SQLite path resolved against the TOML file's folder."""
        if "://" in self.store or self.store == ":memory:" or base is None:
            return self.store
        path = Path(self.store)
        return str(path if path.is_absolute() else base / path)

    def target(self, target_id: str) -> TargetSection | None:
        return next((t for t in self.targets if t.id == target_id), None)
