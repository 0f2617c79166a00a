"""Sampled values of the two measurands the simulator reports (pure payload fragments)."""

from __future__ import annotations

from typing import Any

from ocppnet.rpc.timestamps import format_seconds

ENERGY = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"


def meter_value_2(now: float, energy_wh: float, power_w: float, context: str) -> dict[str, Any]:
    """An OCPP 2.x MeterValueType (numbers)."""
    return {"timestamp": format_seconds(now), "sampledValue": [
        {"value": round(energy_wh, 1), "context": context, "measurand": ENERGY,
         "unitOfMeasure": {"unit": "Wh"}},
        {"value": round(power_w, 1), "context": context, "measurand": POWER,
         "unitOfMeasure": {"unit": "W"}},
    ]}


def meter_value_16(now: float, energy_wh: float, power_w: float, context: str) -> dict[str, Any]:
    """An OCPP 1.6 MeterValue (values are strings)."""
    return {"timestamp": format_seconds(now), "sampledValue": [
        {"value": f"{energy_wh:.1f}", "context": context, "measurand": ENERGY, "unit": "Wh"},
        {"value": f"{power_w:.1f}", "context": context, "measurand": POWER, "unit": "W"},
    ]}
