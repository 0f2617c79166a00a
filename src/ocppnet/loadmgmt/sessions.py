"""Which EVSEs charge and how much they draw, read from the frames a node forwards.

Pure: the caller feeds requests of stations (TransactionEvent, MeterValues, 1.6
Start/StopTransaction) and the CSMS's answers to them, with ``now``. OCPP 1.6 names a
transaction by the id the CSMS returns, so a StartTransaction is remembered until its answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ocppnet.loadmgmt.allocator import EvseKey

POWER = "Power.Active.Import"


@dataclass(slots=True)
class Session:
    key: EvseKey
    transaction_id: str
    started_at: float
    measured_w: float | None = None
    measured_at: float = 0.0

    def measure(self, power_w: float, now: float) -> None:
        self.measured_w = power_w
        self.measured_at = now


def power_from(meter_values: Any) -> float | None:
    """The last Power.Active.Import (W or kW; phase-less total) in a meterValue list."""
    found: float | None = None
    if not isinstance(meter_values, list):
        return None
    for meter_value in meter_values:
        sampled = meter_value.get("sampledValue") if isinstance(meter_value, dict) else None
        for value in sampled if isinstance(sampled, list) else ():
            if not isinstance(value, dict) or value.get("measurand") != POWER \
                    or value.get("phase"):
                continue
            unit = value.get("unit") or (value.get("unitOfMeasure") or {}).get("unit", "W")
            try:
                number = float(value["value"])
            except (KeyError, TypeError, ValueError):
                continue
            found = number * 1000.0 if unit == "kW" else number
    return found


class SessionTracker:
    """Active sessions per EVSE; ``observe_*`` return True when the set of sessions changed."""

    def __init__(self) -> None:
        self.sessions: dict[EvseKey, Session] = {}
        self.versions: dict[str, str] = {}
        self._starting: dict[tuple[str, str], tuple[EvseKey, float]] = {}
        self._booting: set[tuple[str, str]] = set()
        self.booted: set[str] = set()
        """Stations whose BootNotification the CSMS accepted since the manager last looked."""

    def observe_request(
        self, station: str, version: str, message_id: str, action: str, payload: Any, now: float
    ) -> bool:
        """A station's request on its way to the CSMS."""
        if not isinstance(payload, dict):
            return False
        self.versions[station] = version
        if action == "TransactionEvent":
            return self._transaction_event(station, payload, now)
        if action == "BootNotification":
            self._booting.add((station, message_id))
            return False
        if action == "StartTransaction":
            key = (station, _int(payload.get("connectorId")))
            self._starting[(station, message_id)] = (key, now)
            return False
        if action == "StopTransaction":
            return self._end(station, str(payload.get("transactionId")))
        if action == "MeterValues":
            key = (station, _int(payload.get("evseId", payload.get("connectorId"))))
            session = self.sessions.get(key)
            created = False
            tx_id = payload.get("transactionId")
            if session is None and tx_id is not None and key[1] > 0 and version == "1.6":
                # a session that started before this node watched (restart): learn it here
                session = self.sessions[key] = Session(key, str(tx_id), now)
                created = True
            power = power_from(payload.get("meterValue"))
            if session is not None and power is not None:
                session.measure(power, now)
            return created
        return False

    def observe_answer(self, station: str, message_id: str, payload: Any) -> bool:
        """The CSMS's CALLRESULT to a station's request (BootNotification, 1.6 StartTransaction)."""
        if (station, message_id) in self._booting:
            self._booting.discard((station, message_id))
            if isinstance(payload, dict) and payload.get("status") == "Accepted":
                self.booted.add(station)
                return True
            return False
        started = self._starting.pop((station, message_id), None)
        if started is None or not isinstance(payload, dict):
            return False
        status = (payload.get("idTagInfo") or {}).get("status")
        if status != "Accepted" or "transactionId" not in payload:
            return False
        key, at = started
        self.sessions[key] = Session(key, str(payload["transactionId"]), at)
        return True

    def forget_station(self, station: str) -> bool:
        """The station is gone: its sessions no longer draw from this site's capacity."""
        gone = [key for key in self.sessions if key[0] == station]
        for key in gone:
            del self.sessions[key]
        return bool(gone)

    def _transaction_event(self, station: str, payload: dict[str, Any], now: float) -> bool:
        info = payload.get("transactionInfo") or {}
        tx_id = str(info.get("transactionId"))
        event_type = payload.get("eventType")
        power = power_from(payload.get("meterValue"))
        if event_type == "Ended":
            return self._end(station, tx_id)
        evse = (payload.get("evse") or {}).get("id")
        session = self._find(station, tx_id)
        changed = False
        if session is None and isinstance(evse, int):
            session = Session((station, evse), tx_id, now)
            self.sessions[session.key] = session
            changed = True
        if session is not None and power is not None:
            session.measure(power, now)
        return changed

    def _find(self, station: str, tx_id: str) -> Session | None:
        for session in self.sessions.values():
            if session.key[0] == station and session.transaction_id == tx_id:
                return session
        return None

    def _end(self, station: str, tx_id: str) -> bool:
        session = self._find(station, tx_id)
        if session is None:
            return False
        del self.sessions[session.key]
        return True


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0
