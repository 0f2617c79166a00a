"""Settings of the load manager (typed; parsed by the caller from its TOML section)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ocppnet.loadmgmt.allocator import Hysteresis


@dataclass(frozen=True, slots=True)
class LoadConfig:
    """``capacity_w - reserve_w`` is what the stations may share (the reserve covers the
    site's base load); a grid operator's limit, when set at run time, can only lower it.
    ``idle_limit_w`` caps an EVSE without a session (set at boot and when a session ends), so
    a new session starts low until its share arrives; None leaves idle EVSEs alone."""

    capacity_w: float
    reserve_w: float = 0.0
    evse_min_w: float = 1_400.0
    evse_max_w: float = 22_000.0
    idle_limit_w: float | None = 1_400.0
    margin_w: float = 1_000.0
    hysteresis: Hysteresis = field(default_factory=Hysteresis)
    interval_s: float = 60.0
    profile_id_base: int = 9_000
    stack_level: int = 1
    call_timeout_s: float = 10.0

    def __post_init__(self) -> None:
        if self.capacity_w < 0 or self.reserve_w < 0:
            raise ValueError("loadmgmt: capacity_w and reserve_w must be >= 0")
        if not 0 <= self.evse_min_w <= self.evse_max_w:
            raise ValueError("loadmgmt: need 0 <= evse_min_w <= evse_max_w")
        if self.idle_limit_w is not None and self.idle_limit_w < 0:
            raise ValueError("loadmgmt: idle_limit_w must be >= 0")
        if self.interval_s <= 0:
            raise ValueError("loadmgmt: interval_s must be > 0")

    def site_limit_w(self, grid_limit_w: float | None = None) -> float:
        own = max(0.0, self.capacity_w - self.reserve_w)
        return own if grid_limit_w is None else max(0.0, min(own, grid_limit_w))
