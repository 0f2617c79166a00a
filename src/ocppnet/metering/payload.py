"""The OCMF payload data section (revision 1.4.x) as values: every field, readings, vendor keys.

:func:`payload_from_json` turns a parsed payload object into a :class:`Payload` and the list
of spec deviations it found (issues: a value outside a table, a missing mandatory field);
wrong JSON types raise :class:`~ocppnet.metering.errors.OcmfError`. :func:`payload_to_json`
is the other way, in the specification's key order, for payloads we build and sign
ourselves. Top-level keys starting with U..Z (vendor extension points) are kept in
``vendor``; other unknown keys in ``extra`` (reported as issues), so nothing is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from ocppnet.metering.errors import OcmfError
from ocppnet.metering.obis import parse_obis
from ocppnet.metering.times import OcmfTime, parse_time
from ocppnet.metering.vocabulary import (
    CHARGE_POINT_ID_TYPES,
    CURRENT_TYPES,
    ERROR_FLAGS,
    IDENTIFICATION_FLAGS,
    IDENTIFICATION_LEVELS,
    IDENTIFICATION_TYPES,
    LOSS_UNITS,
    METER_STATUS,
    READING_REASONS,
    UNITS,
    VENDOR_PREFIXES,
)

__all__ = ["LossCompensation", "Payload", "Reading", "payload_from_json", "payload_to_json"]

_PAGINATION = re.compile(r"([TF])(0|[1-9][0-9]*)")

# Simple top-level fields: wire key -> (attribute, JSON type).
_STRING_FIELDS = {
    "FV": "format_version", "GI": "gateway_id", "GS": "gateway_serial",
    "GV": "gateway_version", "PG": "pagination", "MV": "meter_vendor", "MM": "meter_model",
    "MS": "meter_serial", "MF": "meter_firmware", "IL": "identification_level",
    "IT": "identification_type", "ID": "identification_data", "TT": "tariff_text",
    "CF": "charge_controller_firmware", "CT": "charge_point_id_type", "CI": "charge_point_id",
}
# The specification's order (tables 1-7), used when we write a payload.
_ORDER = ("FV", "GI", "GS", "GV", "PG", "MV", "MM", "MS", "MF", "IS", "IL", "IF", "IT", "ID",
          "TT", "CF", "LC", "CT", "CI", "RD")
_KNOWN = frozenset(_ORDER)


@dataclass(frozen=True, slots=True)
class LossCompensation:
    """``LC``: the charging cable's resistance used for loss compensation (table 24)."""

    resistance: Decimal
    unit: str
    naming: str | None = None
    identification: int | None = None


@dataclass(frozen=True, slots=True)
class Reading:
    """One ``RD`` entry as written; a field absent here repeats the previous reading's value."""

    time: OcmfTime | None = None          # TM
    reason: str | None = None             # TX: B C X E L R A P S T, None = fiscal
    value: Decimal | None = None          # RV, exactly as written
    obis: str | None = None               # RI
    unit: str | None = None               # RU
    current_type: str | None = None       # RT
    cumulated_loss: Decimal | None = None  # CL
    error_flags: str | None = None        # EF
    status: str | None = None             # ST
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Payload:
    """The payload data section; attribute comments give the wire keys."""

    pagination: str                                 # PG, e.g. "T12345"
    readings: tuple[Reading, ...] = ()              # RD
    format_version: str | None = None               # FV
    gateway_id: str | None = None                   # GI
    gateway_serial: str | None = None               # GS
    gateway_version: str | None = None              # GV
    meter_vendor: str | None = None                 # MV
    meter_model: str | None = None                  # MM
    meter_serial: str | None = None                 # MS
    meter_firmware: str | None = None               # MF
    identification_status: bool | None = None       # IS
    identification_level: str | None = None         # IL
    identification_flags: tuple[str, ...] | None = None  # IF
    identification_type: str | None = None          # IT
    identification_data: str | None = None          # ID
    tariff_text: str | None = None                  # TT
    charge_controller_firmware: str | None = None   # CF
    loss_compensation: LossCompensation | None = None  # LC
    charge_point_id_type: str | None = None         # CT
    charge_point_id: str | None = None              # CI
    vendor: dict[str, Any] = field(default_factory=dict)  # U.. Z keys
    extra: dict[str, Any] = field(default_factory=dict)   # unknown keys, kept

    @property
    def pagination_context(self) -> str | None:
        """``T`` (transaction) or ``F`` (fiscal), None when PG is malformed."""
        match = _PAGINATION.fullmatch(self.pagination)
        return match.group(1) if match else None

    @property
    def pagination_number(self) -> int | None:
        match = _PAGINATION.fullmatch(self.pagination)
        return int(match.group(2)) if match else None

    def effective_readings(self) -> tuple[Reading, ...]:
        """The readings with omitted fields filled from the previous reading (section 7)."""
        out: list[Reading] = []
        previous: Reading | None = None
        for reading in self.readings:
            if previous is not None:
                reading = replace(reading, **{
                    name: getattr(previous, name) for name in _INHERITED
                    if getattr(reading, name) is None and getattr(previous, name) is not None})
            out.append(reading)
            previous = reading
        return tuple(out)


_INHERITED = ("time", "reason", "value", "obis", "unit", "current_type", "error_flags",
              "status")


def _string(obj: dict[str, Any], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None or type(value) is str:
        return value
    raise OcmfError(f"{where}.{key}: expected a string, got {type(value).__name__}")


def _number(obj: dict[str, Any], key: str, where: str, issues: list[str]) -> Decimal | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        raise OcmfError(f"{where}.{key}: expected a number, got a boolean")
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise OcmfError(f"{where}.{key}: {value!r} is not a number") from None
        if not number.is_finite():
            raise OcmfError(f"{where}.{key}: {value!r} is not a number")
        issues.append(f"{where}.{key}: a string, not a JSON number")
        return number
    raise OcmfError(f"{where}.{key}: expected a number, got {type(value).__name__}")


def _check(value: str | None, allowed: frozenset[str] | dict[str, str], what: str,
           issues: list[str]) -> None:
    if value and value not in allowed:
        issues.append(f"{what}: unknown value {value!r}")


_READING_KEYS = frozenset({"TM", "TX", "RV", "RI", "RU", "RT", "CL", "EF", "ST"})


def _reading(obj: Any, where: str, first: bool, issues: list[str]) -> Reading:
    if not isinstance(obj, dict):
        raise OcmfError(f"{where}: expected an object, got {type(obj).__name__}")
    tm = _string(obj, "TM", where)
    time: OcmfTime | None = None
    if tm is not None:
        time, found = parse_time(tm, f"{where}.TM")
        issues.extend(found)
    reading = Reading(
        time=time, reason=_string(obj, "TX", where), value=_number(obj, "RV", where, issues),
        obis=_string(obj, "RI", where), unit=_string(obj, "RU", where),
        current_type=_string(obj, "RT", where),
        cumulated_loss=_number(obj, "CL", where, issues),
        error_flags=_string(obj, "EF", where), status=_string(obj, "ST", where),
        extra={k: v for k, v in obj.items() if k not in _READING_KEYS})
    if first and reading.time is None:
        raise OcmfError(f"{where}.TM: missing (mandatory in the first reading)")
    if first and reading.status is None:
        issues.append(f"{where}.ST: missing (mandatory)")
    if (reading.obis is None) != (reading.unit is None) and first:
        issues.append(f"{where}: RI and RU form a group (both or neither)")
    _check(reading.reason, READING_REASONS, f"{where}.TX", issues)
    _check(reading.unit, UNITS, f"{where}.RU", issues)
    _check(reading.current_type, CURRENT_TYPES, f"{where}.RT", issues)
    _check(reading.status, METER_STATUS, f"{where}.ST", issues)
    if reading.error_flags and set(reading.error_flags) - set(ERROR_FLAGS):
        issues.append(f"{where}.EF: unknown flags in {reading.error_flags!r} (known: E, t)")
    if reading.obis is not None and parse_obis(reading.obis) is None:
        issues.append(f"{where}.RI: {reading.obis!r} is not an OBIS code")
    for key in reading.extra:
        issues.append(f"{where}.{key}: not a reading field of OCMF")
    return reading


def _loss(obj: Any, where: str, issues: list[str]) -> LossCompensation:
    if not isinstance(obj, dict):
        raise OcmfError(f"{where}: expected an object, got {type(obj).__name__}")
    resistance = _number(obj, "LR", where, issues)
    unit = _string(obj, "LU", where)
    if resistance is None or unit is None:
        raise OcmfError(f"{where}: LR and LU are mandatory")
    ident = obj.get("LI")
    if ident is not None and (isinstance(ident, bool) or not isinstance(ident, int)):
        raise OcmfError(f"{where}.LI: expected an integer")
    _check(unit, LOSS_UNITS, f"{where}.LU", issues)
    return LossCompensation(resistance, unit, _string(obj, "LN", where), ident)


def payload_from_json(obj: Any, where: str = "payload") -> tuple[Payload, list[str]]:
    """A :class:`Payload` from a parsed payload object, and the spec deviations found."""
    if not isinstance(obj, dict):
        raise OcmfError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    issues: list[str] = []
    strings = {attr: _string(obj, key, where) for key, attr in _STRING_FIELDS.items()}
    pagination = strings.pop("pagination")
    if pagination is None:
        raise OcmfError(f"{where}.PG: missing (mandatory)")
    if _PAGINATION.fullmatch(pagination) is None:
        issues.append(f"{where}.PG: {pagination!r} is not T<n> or F<n> without leading zeros")
    status = obj.get("IS")
    if status is not None and not isinstance(status, bool):
        raise OcmfError(f"{where}.IS: expected true or false")
    flags = obj.get("IF")
    if flags is not None:
        if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
            raise OcmfError(f"{where}.IF: expected an array of strings")
        for flag in flags:
            _check(flag, IDENTIFICATION_FLAGS, f"{where}.IF", issues)
    rd = obj.get("RD")
    if not isinstance(rd, list) or not rd:
        raise OcmfError(f"{where}.RD: expected a non-empty array of readings")
    readings = tuple(_reading(r, f"{where}.RD[{i}]", i == 0, issues) for i, r in enumerate(rd))
    lc = obj.get("LC")
    payload = Payload(
        pagination=pagination, readings=readings, identification_status=status,
        identification_flags=tuple(flags) if flags is not None else None,
        loss_compensation=_loss(lc, f"{where}.LC", issues) if lc is not None else None,
        vendor={k: v for k, v in obj.items() if k[:1] in VENDOR_PREFIXES},
        extra={k: v for k, v in obj.items()
               if k not in _KNOWN and k[:1] not in VENDOR_PREFIXES},
        **strings)
    if payload.meter_serial is None and not payload.gateway_serial:
        issues.append(f"{where}.MS: missing (a meter or a gateway serial is mandatory)")
    _check(payload.identification_level, IDENTIFICATION_LEVELS, f"{where}.IL", issues)
    _check(payload.identification_type, IDENTIFICATION_TYPES, f"{where}.IT", issues)
    _check(payload.charge_point_id_type, CHARGE_POINT_ID_TYPES, f"{where}.CT", issues)
    for key in payload.extra:
        issues.append(f"{where}.{key}: not a field of OCMF 1.4 nor a vendor key (U..Z)")
    return payload, issues


def _reading_json(reading: Reading) -> dict[str, Any]:
    out: dict[str, Any] = {}
    pairs = (("TM", reading.time.text if reading.time else None), ("TX", reading.reason),
             ("RV", reading.value), ("RI", reading.obis), ("RU", reading.unit),
             ("RT", reading.current_type), ("CL", reading.cumulated_loss),
             ("EF", reading.error_flags), ("ST", reading.status))
    for key, value in pairs:
        if value is not None:
            out[key] = value
    out.update(reading.extra)
    return out


def payload_to_json(payload: Payload) -> dict[str, Any]:
    """The payload as a JSON object in the specification's key order (vendor keys last)."""
    values: dict[str, Any] = {key: getattr(payload, attr) for key, attr in _STRING_FIELDS.items()}
    values["IS"] = payload.identification_status
    values["IF"] = list(payload.identification_flags) \
        if payload.identification_flags is not None else None
    lc = payload.loss_compensation
    if lc is not None:
        values["LC"] = {k: v for k, v in (("LN", lc.naming), ("LI", lc.identification),
                                          ("LR", lc.resistance), ("LU", lc.unit))
                        if v is not None}
    values["RD"] = [_reading_json(r) for r in payload.readings]
    out = {key: values[key] for key in _ORDER if values.get(key) is not None}
    out.update(payload.extra)
    out.update(payload.vendor)
    return out
