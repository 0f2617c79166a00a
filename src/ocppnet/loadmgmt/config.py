"""Settings of the load manager: the ``[node.load_management]`` TOML table as a typed model.

Declared once (:class:`LoadConfig`, an :class:`ocppnet.config.Section`), so the node's reader
refuses unknown keys and names file and dotted key in every error; docs/load-management.md's
table is checked against these fields.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from ocppnet.config import Section
from ocppnet.loadmgmt.allocator import Hysteresis


class LoadConfig(Section):
    """``capacity_w - reserve_w`` is what the stations may share (the reserve covers the
    site's base load); a grid operator's limit, when set at run time, can only lower it.
    ``idle_limit_w`` caps an EVSE without a session (set at boot and when a session ends), so
    a new session starts low until its share arrives; None (``false`` in TOML) leaves idle
    EVSEs alone."""

    capacity_w: float = Field(description="the grid connection's capacity in W")
    reserve_w: float = Field(default=0.0, description="W kept for the site's base load")
    evse_min_w: float = Field(default=1_400.0, description="smallest limit an EVSE is given (W)")
    evse_max_w: float = Field(default=22_000.0, description="largest limit an EVSE is given (W)")
    idle_limit_w: float | None = Field(
        default=1_400.0, description="limit of an EVSE without a session (W); false = leave alone")
    margin_w: float = Field(
        default=1_000.0, description="W added to what a tapering EVSE draws when sharing")
    hysteresis_w: float = Field(
        default=500.0, description="a limit is re-sent only when it moves by more than this W ...")
    hysteresis_rel: float = Field(default=0.05, description="... and by more than this share of it")
    interval_s: float = Field(default=60.0, description="seconds between reallocations")
    profile_id_base: int = Field(default=9_000, description="first charging profile id used")
    stack_level: int = Field(default=1, description="stack level of the profiles sent")
    call_timeout_s: float = Field(default=10.0, description="seconds a station has to answer")

    @field_validator("idle_limit_w", mode="before")
    @classmethod
    def _false_is_none(cls, value: Any) -> Any:
        return None if value is False else value

    @model_validator(mode="after")
    def _consistent(self) -> LoadConfig:
        if self.capacity_w < 0 or self.reserve_w < 0:
            raise ValueError("loadmgmt: capacity_w and reserve_w must be >= 0")
        if not 0 <= self.evse_min_w <= self.evse_max_w:
            raise ValueError("loadmgmt: need 0 <= evse_min_w <= evse_max_w")
        if self.idle_limit_w is not None and self.idle_limit_w < 0:
            raise ValueError("loadmgmt: idle_limit_w must be >= 0")
        if self.interval_s <= 0:
            raise ValueError("loadmgmt: interval_s must be > 0")
        return self

    @property
    def hysteresis(self) -> Hysteresis:
        return Hysteresis(self.hysteresis_w, self.hysteresis_rel)

    def site_limit_w(self, grid_limit_w: float | None = None) -> float:
        own = max(0.0, self.capacity_w - self.reserve_w)
        return own if grid_limit_w is None else max(0.0, min(own, grid_limit_w))
