"""The simulated car: how much power it will take at a given state of charge.

Constant power (constant current) up to ``taper_soc``, then a linear taper to zero at 100 %,
which is how real batteries look from the wall at the resolution a CSMS cares about.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class ElectricVehicle:
    """A battery that charges; ``soc`` is a fraction in [0, 1]."""

    capacity_wh: float = 60_000.0
    soc: float = 0.2
    max_power_w: float = 11_000.0
    taper_soc: float = 0.8

    def __post_init__(self) -> None:
        if self.capacity_wh <= 0 or self.max_power_w < 0:
            raise ValueError("capacity_wh must be > 0 and max_power_w >= 0")
        if not 0.0 <= self.soc <= 1.0 or not 0.0 < self.taper_soc <= 1.0:
            raise ValueError("soc must be in [0, 1] and taper_soc in (0, 1]")

    def demand_w(self) -> float:
        """The power the car asks for now (before EVSE and charging-profile caps)."""
        if self.soc >= 1.0:
            return 0.0
        if self.soc <= self.taper_soc:
            return self.max_power_w
        return self.max_power_w * (1.0 - self.soc) / (1.0 - self.taper_soc)

    @property
    def full(self) -> bool:
        return self.soc >= 1.0

    def absorb(self, energy_wh: float) -> None:
        """Store delivered energy (never beyond full)."""
        self.soc = min(1.0, self.soc + energy_wh / self.capacity_wh)
