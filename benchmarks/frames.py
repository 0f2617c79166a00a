"""Pre-built OCPP 2.0.1 CALL frames the load generator sends (valid against the schemas)."""

from __future__ import annotations

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


def call(message_id: str, n: int) -> str:
    """The n-th request of a station: Heartbeat and MeterValues alternately."""
    if n % 2:
        return f'[2,"{message_id}","MeterValues",{_METER_JSON}]'
    return f'[2,"{message_id}","Heartbeat",{{}}]'
