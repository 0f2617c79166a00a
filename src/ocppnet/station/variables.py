"""The few settings a CSMS may read or change: 2.x device-model variables, 1.6 keys.

Both versions name the same two knobs (heartbeat interval, meter sample interval); the
rest is read-only description. Pure functions over :class:`Tunables`; unknown names get
the status each version defines for them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Tunables:
    station_id: str
    heartbeat_s: float
    meter_interval_s: float
    connectors: int = 1

    def _get(self, name: str) -> str:
        if name == "heartbeat":
            return str(int(self.heartbeat_s))
        if name == "meter":
            return str(int(self.meter_interval_s))
        if name == "identity":
            return self.station_id
        if name == "connectors":
            return str(self.connectors)
        return _FIXED[name]

    def _set(self, name: str, value: str) -> bool:
        try:
            seconds = int(value)
        except ValueError:
            return False
        if seconds <= 0:
            return False
        if name == "heartbeat":
            self.heartbeat_s = float(seconds)
        else:
            self.meter_interval_s = float(seconds)
        return True


_FIXED = {
    "measurands": "Energy.Active.Import.Register,Power.Active.Import",
    "true": "true",
    "stack": "10",
}
_WRITABLE = frozenset({"heartbeat", "meter"})

# (component, variable) -> knob
_V2: dict[tuple[str, str], str] = {
    ("OCPPCommCtrlr", "HeartbeatInterval"): "heartbeat",
    ("SampledDataCtrlr", "TxUpdatedInterval"): "meter",
    ("SampledDataCtrlr", "TxUpdatedMeasurands"): "measurands",
    ("SecurityCtrlr", "Identity"): "identity",
    ("SmartChargingCtrlr", "Enabled"): "true",
    ("SmartChargingCtrlr", "ProfileStackLevel"): "stack",
}
_V16: dict[str, str] = {
    "HeartbeatInterval": "heartbeat",
    "MeterValueSampleInterval": "meter",
    "MeterValuesSampledData": "measurands",
    "NumberOfConnectors": "connectors",
    "ChargeProfileMaxStackLevel": "stack",
}


def get_variable(t: Tunables, component: str, variable: str) -> tuple[str, str | None]:
    """(GetVariableStatusEnumType, value) for a 2.x GetVariableData entry."""
    if component not in {c for c, _ in _V2}:
        return "UnknownComponent", None
    knob = _V2.get((component, variable))
    if knob is None:
        return "UnknownVariable", None
    return "Accepted", t._get(knob)


def set_variable(t: Tunables, component: str, variable: str, value: str) -> str:
    """SetVariableStatusEnumType for a 2.x SetVariableData entry."""
    if component not in {c for c, _ in _V2}:
        return "UnknownComponent"
    knob = _V2.get((component, variable))
    if knob is None:
        return "UnknownVariable"
    if knob not in _WRITABLE or not t._set(knob, value):
        return "Rejected"
    return "Accepted"


def get_configuration(t: Tunables, keys: list[str] | None) -> tuple[list[dict[str, object]],
                                                                     list[str]]:
    """(configurationKey, unknownKey) of a 1.6 GetConfiguration.conf."""
    wanted = keys or list(_V16)
    known = [{"key": k, "readonly": _V16[k] not in _WRITABLE, "value": t._get(_V16[k])}
             for k in wanted if k in _V16]
    return known, [k for k in wanted if k not in _V16]


def change_configuration(t: Tunables, key: str, value: str) -> str:
    """ConfigurationStatus of a 1.6 ChangeConfiguration.conf."""
    knob = _V16.get(key)
    if knob is None:
        return "NotSupported"
    if knob not in _WRITABLE or not t._set(knob, value):
        return "Rejected"
    return "Accepted"
