"""Meter values from OCPP payloads into :class:`MeterSample` rows (pure).

OCPP 2.x samples carry numbers with a ``unitOfMeasure`` (unit + power-of-ten multiplier);
OCPP 1.6 samples carry strings with a ``unit`` and, for ``format: SignedData``, a signed
blob instead of a number. The transaction's energy is the latest
``Energy.Active.Import.Register`` reading without phase, normalised to Wh.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from ocppnet.rpc.timestamps import parse_timestamp
from ocppnet.store import MeterSample

ENERGY_REGISTER = "Energy.Active.Import.Register"
_NO_UNIT: dict[str, Any] = {}
_TO_WH = {"Wh": 1.0, "kWh": 1000.0}


def samples_v2(
    meter_values: Iterable[dict[str, Any]],
    *,
    station_id: str,
    now: datetime,
    evse_id: int | None = None,
    transaction_key: int | None = None,
) -> list[MeterSample]:
    """Rows for an OCPP 2.0.1/2.1 ``meterValue`` array; values scaled by the multiplier."""
    rows: list[MeterSample] = []
    for mv in meter_values:
        at = parse_timestamp(mv.get("timestamp")) or now
        for sv in mv.get("sampledValue", ()):
            uom = sv.get("unitOfMeasure") or _NO_UNIT
            multiplier = uom.get("multiplier")
            value = float(sv["value"])
            if multiplier:
                value *= 10 ** int(multiplier)
            measurand = sv.get("measurand", ENERGY_REGISTER)
            get = sv.get
            # positional: the per-call cost of this loop is the record's construction
            rows.append(MeterSample(
                station_id, at, value, measurand,
                uom.get("unit", "Wh" if measurand.startswith("Energy") else None),
                get("context"), get("phase"), get("location"), evse_id, transaction_key,
                get("signedMeterValue"),
            ))
    return rows


def samples_v16(
    meter_values: Iterable[dict[str, Any]],
    *,
    station_id: str,
    now: datetime,
    connector_id: int | None = None,
    transaction_key: int | None = None,
) -> list[MeterSample]:
    """Rows for an OCPP 1.6 ``meterValue``/``transactionData`` array (values are strings)."""
    rows: list[MeterSample] = []
    for mv in meter_values:
        at = parse_timestamp(mv.get("timestamp")) or now
        for sv in mv.get("sampledValue", ()):
            raw = sv.get("value", "")
            signed = sv.get("format") == "SignedData"
            measurand = sv.get("measurand", ENERGY_REGISTER)
            rows.append(
                MeterSample(
                    station_id=station_id,
                    timestamp=at,
                    value=None if signed else _number(raw),
                    measurand=measurand,
                    unit=sv.get("unit", "Wh" if measurand.startswith("Energy") else None),
                    context=sv.get("context"),
                    phase=sv.get("phase"),
                    location=sv.get("location"),
                    evse_id=connector_id,
                    transaction_key=transaction_key,
                    signed_data={"format": "SignedData", "value": raw} if signed else None,
                )
            )
    return rows


def _number(text: object) -> float | None:
    try:
        value = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def energy_wh(samples: Sequence[MeterSample]) -> float | None:
    """The last whole-meter energy register reading in Wh, or None if the samples have none."""
    for s in reversed(samples):
        if s.measurand == ENERGY_REGISTER and s.phase is None and s.value is not None:
            factor = _TO_WH.get(s.unit or "Wh")
            if factor is not None:
                return s.value * factor
    return None
