"""What the simulated drivers do: how often a car arrives, how long it charges, and sampling.

All durations are simulated seconds (see :mod:`ocppnet.station.clock`). Arrivals are
exponential around ``idle_s`` so a fleet does not move in lockstep.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ocppnet.station.ev import ElectricVehicle


@dataclass(frozen=True, slots=True)
class Scenario:
    auto: bool = True  # False: nothing happens unless the CSMS or the caller asks
    idle_s: float = 600.0  # mean time between a car leaving and the next arriving
    session_s: float = 1_800.0  # charging time before the driver stops
    unplug_after_s: float = 10.0  # from stop to cable out
    meter_interval_s: float = 60.0  # TxUpdatedInterval / MeterValueSampleInterval
    heartbeat_s: float | None = None  # None: the interval from BootNotification
    id_token: str = "SIMTOKEN01"
    ev_capacity_wh: float = 60_000.0
    ev_max_power_w: float = 11_000.0
    ev_soc_min: float = 0.1
    ev_soc_max: float = 0.7

    def __post_init__(self) -> None:
        for name in ("idle_s", "session_s", "meter_interval_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"scenario {name} must be > 0")
        if self.heartbeat_s is not None and self.heartbeat_s <= 0:
            raise ValueError("scenario heartbeat_s must be > 0")
        if not 0 <= self.ev_soc_min <= self.ev_soc_max <= 1:
            raise ValueError("scenario needs 0 <= ev_soc_min <= ev_soc_max <= 1")

    def next_arrival(self, rng: random.Random) -> float:
        return rng.expovariate(1.0 / self.idle_s)

    def new_ev(self, rng: random.Random) -> ElectricVehicle:
        return ElectricVehicle(
            capacity_wh=self.ev_capacity_wh,
            soc=rng.uniform(self.ev_soc_min, self.ev_soc_max),
            max_power_w=self.ev_max_power_w,
        )
