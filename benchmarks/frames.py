"""Pre-built OCPP 2.0.1 CALL frames the load generator sends (valid against the schemas)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

SUBPROTOCOL = "ocpp2.0.1"
NOW = "2025-03-01T12:00:00Z"

METER_VALUES = {
    "evseId": 1,
    "meterValue": [
        {
            "timestamp": NOW,
            "sampledValue": [
                {
                    "value": 1234.5,
                    "measurand": "Energy.Active.Import.Register",
                    "unitOfMeasure": {"unit": "Wh"},
                },
                {"value": 7.2, "measurand": "Power.Active.Import", "phase": "L1"},
                {"value": 230.1, "measurand": "Voltage", "phase": "L1-N"},
                {"value": 31.4, "measurand": "Current.Import", "phase": "L1"},
            ],
        }
    ],
}
_METER_JSON = orjson.dumps(METER_VALUES).decode()


_START = datetime(2025, 3, 1, 12, tzinfo=UTC)


def call(message_id: str, n: int, *, distinct: bool = False) -> str:
    """The n-th request of a station: Heartbeat and MeterValues alternately. ``distinct``:
    each MeterValues reports a new reading (the n-th second's), so a CSMS that stores meter
    values exactly once stores every one, instead of recognising a repeat."""
    if n % 2:
        meter = _METER_JSON if not distinct else orjson.dumps(_reading(n)).decode()
        return f'[2,"{message_id}","MeterValues",{meter}]'
    return f'[2,"{message_id}","Heartbeat",{{}}]'


def _reading(n: int) -> dict[str, object]:
    at = (_START + timedelta(seconds=n)).isoformat().replace("+00:00", "Z")
    value = METER_VALUES["meterValue"][0]  # type: ignore[index]
    sampled = [dict(v) for v in value["sampledValue"]]
    sampled[0]["value"] = 1234.5 + n
    return {"evseId": 1, "meterValue": [{"timestamp": at, "sampledValue": sampled}]}
