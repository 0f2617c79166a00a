"""Builders of station requests for the plausibility tests (2.0.1 and 1.6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def now(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def sample(value: float, measurand: str | None = None, unit: str | None = None,
           multiplier: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"value": value}
    if measurand is not None:
        out["measurand"] = measurand
    if unit is not None or multiplier is not None:
        out["unitOfMeasure"] = {
            k: v for k, v in (("unit", unit), ("multiplier", multiplier)) if v is not None
        }
    return out


def tx_event(event_type: str, seq_no: int, seconds: float, *samples: dict[str, Any],
             tx_id: str = "TX-1", evse: int = 1, sample_at: float | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "eventType": event_type,
        "timestamp": at(seconds),
        "triggerReason": "MeterValuePeriodic" if event_type == "Updated" else "Authorized",
        "seqNo": seq_no,
        "transactionInfo": {"transactionId": tx_id},
        "evse": {"id": evse, "connectorId": 1},
    }
    if samples:
        stamp = seconds if sample_at is None else sample_at
        payload["meterValue"] = [{"timestamp": at(stamp), "sampledValue": list(samples)}]
    return payload


def energy(wh: float) -> dict[str, Any]:
    return sample(wh, "Energy.Active.Import.Register", "Wh")


def power(w: float) -> dict[str, Any]:
    return sample(w, "Power.Active.Import", "W")


def soc(pct: float) -> dict[str, Any]:
    return sample(pct, "SoC", "Percent")


def meter_values_16(connector: int, seconds: float, *samples: dict[str, Any],
                    tx_id: int | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "connectorId": connector,
        "meterValue": [{"timestamp": at(seconds), "sampledValue": list(samples)}],
    }
    if tx_id is not None:
        payload["transactionId"] = tx_id
    return payload


def sample_16(value: str, measurand: str = "Energy.Active.Import.Register",
              unit: str = "Wh") -> dict[str, Any]:
    return {"value": value, "measurand": measurand, "unit": unit}
