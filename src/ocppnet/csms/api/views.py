"""Store records as the JSON the operator API returns (camelCase, ISO 8601 times). Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ocppnet.store import (
    ConnectorRecord,
    MessageLogEntry,
    MeterSample,
    StationEvent,
    StationRecord,
    TransactionRecord,
)

MESSAGE_TYPES = {2: "CALL", 3: "CALLRESULT", 4: "CALLERROR", 5: "CALLRESULTERROR", 6: "SEND"}


def _time(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def connector_view(c: ConnectorRecord) -> dict[str, Any]:
    return {"evseId": c.evse_id, "connectorId": c.connector_id, "status": c.status,
            "errorCode": c.error_code, "updatedAt": _time(c.updated_at)}


def station_view(s: StationRecord, connectors: Sequence[ConnectorRecord],
                 live_version: str | None) -> dict[str, Any]:
    """``live_version``: the version of its live link (None when not connected)."""
    return {
        "id": s.station_id,
        "status": "online" if s.connected and live_version is not None else "offline",
        "connected": s.connected,
        "ocppVersion": live_version or s.ocpp_version,
        "bootStatus": s.boot_status,
        "bootReason": s.boot_reason,
        "vendor": s.vendor,
        "model": s.model,
        "serialNumber": s.serial_number,
        "firmware": s.firmware,
        "path": list(s.path),
        "lastSeen": _time(s.last_seen),
        "connectors": [connector_view(c) for c in connectors],
    }


def transaction_view(t: TransactionRecord) -> dict[str, Any]:
    return {
        "key": t.key,
        "stationId": t.station_id,
        "transactionId": t.transaction_id,
        "state": t.state,
        "evseId": t.evse_id,
        "connectorId": t.connector_id,
        "idToken": t.id_token,
        "startedAt": _time(t.started_at),
        "stoppedAt": _time(t.stopped_at),
        "meterStartWh": t.meter_start,
        "meterStopWh": t.meter_stop,
        "energyWh": t.energy_wh,
        "stopReason": t.stop_reason,
        "remoteStartId": t.remote_start_id,
    }


def sample_view(m: MeterSample) -> dict[str, Any]:
    view: dict[str, Any] = {"timestamp": _time(m.timestamp), "measurand": m.measurand,
                            "value": m.value, "unit": m.unit, "context": m.context,
                            "phase": m.phase, "location": m.location, "evseId": m.evse_id}
    if m.signed_data is not None:
        view["signedData"] = m.signed_data
    return view


def message_view(e: MessageLogEntry) -> dict[str, Any]:
    return {"at": _time(e.at), "stationId": e.station_id, "direction": e.direction,
            "messageType": MESSAGE_TYPES.get(e.message_type, str(e.message_type)),
            "messageId": e.message_id, "action": e.action, "path": list(e.path),
            "signature": e.signature, "payloadSize": e.payload_size}


def event_view(e: StationEvent) -> dict[str, Any]:
    return {"at": _time(e.at), "stationId": e.station_id, "kind": e.kind, "data": e.data}
