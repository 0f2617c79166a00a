"""Meter readings out of OCPP meterValue lists, normalised to Wh, W and percent.

Both versions: 2.0.1 (numeric ``value``, ``unitOfMeasure {unit, multiplier}``) and 1.6 (string
``value``, ``unit`` such as ``kWh``). Only the three measurands the checker judges are kept;
per-phase and non-outlet energy/power readings are skipped (the checker judges totals).
A reading that cannot be normalised becomes a :class:`Problem` (rule ``units`` or
``value.numeric``), never an exception.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ocppnet.rpc.timestamps import parse_timestamp

ENERGY = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"
SOC = "SoC"

#: measurand -> unit -> factor to the base unit (Wh, W, percent)
_UNITS: dict[str, dict[str, float]] = {
    ENERGY: {"Wh": 1.0, "kWh": 1000.0},
    POWER: {"W": 1.0, "kW": 1000.0},
    SOC: {"Percent": 1.0},
}
_DEFAULT_UNIT = {ENERGY: "Wh", POWER: "W", SOC: "Percent"}


@dataclass(frozen=True, slots=True)
class Reading:
    measurand: str
    value: float
    """In Wh, W or percent."""
    timestamp: datetime | None
    field: str
    time_field: str
    """Where ``timestamp`` came from (``meterValue[0].timestamp``)."""


@dataclass(frozen=True, slots=True)
class Problem:
    rule: str
    field: str
    detail: str


def readings(meter_values: Any, prefix: str) -> tuple[list[Reading], list[Problem]]:
    """The judged readings of a ``meterValue`` list, in message order, and what was wrong."""
    found: list[Reading] = []
    problems: list[Problem] = []
    if not isinstance(meter_values, list):
        return found, problems
    for i, meter_value in enumerate(meter_values):
        if not isinstance(meter_value, dict):
            continue
        timestamp = parse_timestamp(meter_value.get("timestamp"))
        samples = meter_value.get("sampledValue")
        if not isinstance(samples, list):
            continue
        for j, sample in enumerate(samples):
            if not isinstance(sample, dict):
                continue
            where = f"{prefix}[{i}].sampledValue[{j}]"
            outcome = _reading(sample, timestamp, where, f"{prefix}[{i}].timestamp")
            if isinstance(outcome, Reading):
                found.append(outcome)
            elif outcome is not None:
                problems.append(outcome)
    return found, problems


def _reading(sample: dict[str, Any], timestamp: datetime | None,
             where: str, time_field: str) -> Reading | Problem | None:
    measurand = sample.get("measurand", ENERGY)
    if measurand not in _UNITS:
        return None
    if measurand != SOC and (
        sample.get("phase") is not None or sample.get("location", "Outlet") != "Outlet"
    ):
        return None
    value = _number(sample.get("value"))
    if value is None:
        return Problem("value.numeric", f"{where}.value",
                       f"{measurand} value {sample.get('value')!r} is not a finite number")
    unit_of_measure = sample.get("unitOfMeasure")
    if isinstance(unit_of_measure, dict):  # 2.0.1
        unit = unit_of_measure.get("unit", _DEFAULT_UNIT[measurand])
        multiplier = unit_of_measure.get("multiplier", 0)
        unit_field = f"{where}.unitOfMeasure"
    else:  # 1.6 (or 2.0.1 without unitOfMeasure)
        unit = sample.get("unit", _DEFAULT_UNIT[measurand])
        multiplier = 0
        unit_field = f"{where}.unit"
    factor = _UNITS[measurand].get(unit) if isinstance(unit, str) else None
    if factor is None:
        allowed = " or ".join(_UNITS[measurand])
        return Problem("units", unit_field, f"unit {unit!r} of {measurand} is not {allowed}")
    if isinstance(multiplier, bool) or not isinstance(multiplier, int) or abs(multiplier) > 9:
        return Problem("units", unit_field, f"multiplier {multiplier!r} of {measurand} is not "
                                            "an integer exponent in -9..9")
    value = value * factor * 10.0**multiplier
    return Reading(measurand, value, timestamp, f"{where}.value", time_field)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None
