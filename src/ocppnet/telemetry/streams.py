"""What a station streams to a digital twin, and how a stream says what it carries.

OCPP 2.1 binds a periodic event stream to a variable monitor (``variableMonitoringId``); the
variable itself is not in the stream's messages. So the station puts a description of each
stream into ``constantStreamData.customData`` of OpenPeriodicEventStream (the schema allows
it there), and the twin learns from it what stream 3 of station CS-1 means.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from ocppnet.telemetry.chain import CHAIN_VENDOR

__all__ = [
    "QUANTITIES",
    "EvseReading",
    "StreamSpec",
    "describe",
    "read_value",
    "spec_from_open",
    "station_streams",
]


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """One stream: a quantity of one EVSE (``phase`` for per-phase quantities)."""

    id: int
    quantity: str
    unit: str
    evse_id: int
    phase: str | None = None

    @property
    def label(self) -> str:
        phase = f".{self.phase}" if self.phase else ""
        return f"evse{self.evse_id}.{self.quantity}{phase}"

    @property
    def numeric(self) -> bool:
        return self.unit != "state"


#: quantity -> (unit, per phase)
QUANTITIES: Final[Mapping[str, tuple[str, bool]]] = {
    "power": ("W", False),
    "current": ("A", True),
    "voltage": ("V", True),
    "temperature": ("Celsius", False),
    "soc": ("Percent", False),
    "connector": ("state", False),
}
_PHASES: Final = ("L1", "L2", "L3")


@dataclass(frozen=True, slots=True)
class EvseReading:
    """What the EVSE's sensors say at one moment (the station's model fills it)."""

    power_w: float
    voltage_v: float
    phases: int
    temperature_c: float
    soc_percent: float | None
    connector: str


def station_streams(evse_ids: Iterable[int], quantities: Iterable[str]) -> list[StreamSpec]:
    """The streams of a station: every quantity of every EVSE, per phase where it has phases,
    numbered from 1. Raises ValueError for an unknown quantity."""
    wanted = list(quantities)
    for quantity in wanted:
        if quantity not in QUANTITIES:
            raise ValueError(f"unknown quantity {quantity!r}; expected one of "
                             f"{', '.join(QUANTITIES)}")
    specs: list[StreamSpec] = []
    for evse_id in evse_ids:
        for quantity in wanted:
            unit, per_phase = QUANTITIES[quantity]
            for phase in _PHASES if per_phase else (None,):
                specs.append(StreamSpec(len(specs) + 1, quantity, unit, evse_id, phase))
    return specs


def read_value(spec: StreamSpec, reading: EvseReading) -> str | None:
    """The stream's value in ``reading`` as the 2.1 ``v`` string (None: nothing to report,
    e.g. SoC without a vehicle, or a phase the EVSE does not use)."""
    phase_index = _PHASES.index(spec.phase) if spec.phase else 0
    if spec.quantity == "power":
        return f"{reading.power_w:.1f}"
    if spec.quantity == "current":
        if phase_index >= reading.phases:
            return None
        per_phase = reading.power_w / (reading.voltage_v * reading.phases)
        return f"{per_phase:.2f}"
    if spec.quantity == "voltage":
        return None if phase_index >= reading.phases else f"{reading.voltage_v:.1f}"
    if spec.quantity == "temperature":
        return f"{reading.temperature_c:.1f}"
    if spec.quantity == "soc":
        return None if reading.soc_percent is None else f"{reading.soc_percent:.1f}"
    return reading.connector


def describe(spec: StreamSpec) -> dict[str, Any]:
    """``customData`` of the stream's ``constantStreamData`` (OpenPeriodicEventStream)."""
    out: dict[str, Any] = {"vendorId": CHAIN_VENDOR, "quantity": spec.quantity,
                           "unit": spec.unit, "evseId": spec.evse_id}
    if spec.phase:
        out["phase"] = spec.phase
    return out


def spec_from_open(payload: Mapping[str, Any]) -> StreamSpec | None:
    """The StreamSpec an OpenPeriodicEventStream request announces (None: not described)."""
    data = payload.get("constantStreamData")
    if not isinstance(data, Mapping):
        return None
    custom = data.get("customData")
    stream_id = data.get("id")
    if not isinstance(custom, Mapping) or custom.get("vendorId") != CHAIN_VENDOR:
        return None
    quantity, unit, evse_id = custom.get("quantity"), custom.get("unit"), custom.get("evseId")
    phase = custom.get("phase")
    if (not isinstance(stream_id, int) or quantity not in QUANTITIES or not isinstance(unit, str)
            or not isinstance(evse_id, int) or not (phase is None or isinstance(phase, str))):
        return None
    return StreamSpec(stream_id, str(quantity), unit, evse_id, phase)
