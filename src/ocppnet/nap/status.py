"""The dynamic AFIR data: each published EVSE's status, joined from what its station reports.

Pure: :func:`evse_states` takes the store's records (stations from BootNotification and the
connection, connectors from StatusNotification, active transactions) and returns one
:class:`EvseState` per EVSE of the site data. Status names are DATEX II's
``RefillPointStatusEnum`` values; :mod:`ocppnet.nap.ocpi` maps them to OCPI's.

Rules (docs/access-point.md): a station that is not connected, or an EVSE it never reported,
is ``unknown``; ``planned``/``removed`` in the site data win; across an EVSE's connectors, one
in use makes it ``charging`` (``occupied`` when no transaction runs on it), then ``reserved``,
then ``available``; only when none is usable does a fault make it ``outOfOrder`` (else
``inoperative`` for Unavailable). OCPP 1.6 connector 0 (the whole station) Faulted or
Unavailable applies to every EVSE of the station.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ocppnet.nap.sites import Sites
from ocppnet.store.records import ConnectorRecord, StationRecord, TransactionRecord

__all__ = ["EvseState", "EvseStatus", "StatusSnapshot", "evse_states", "snapshot"]


class EvseStatus(StrEnum):
    AVAILABLE = "available"
    BLOCKED = "blocked"
    CHARGING = "charging"
    OCCUPIED = "occupied"
    RESERVED = "reserved"
    INOPERATIVE = "inoperative"
    OUT_OF_ORDER = "outOfOrder"
    PLANNED = "planned"
    REMOVED = "removed"
    UNKNOWN = "unknown"


# OCPP connector status (1.6 and 2.x spellings) -> the status one connector contributes.
_IN_USE = {"Occupied", "Charging", "SuspendedEV", "SuspendedEVSE", "Preparing", "Finishing"}
_CHARGING_16 = {"Charging", "SuspendedEV", "SuspendedEVSE"}
_RANK = {  # lower wins when connectors of one EVSE disagree
    EvseStatus.CHARGING: 0, EvseStatus.OCCUPIED: 1, EvseStatus.RESERVED: 2,
    EvseStatus.AVAILABLE: 3, EvseStatus.OUT_OF_ORDER: 4, EvseStatus.INOPERATIVE: 5,
    EvseStatus.UNKNOWN: 6,
}


@dataclass(frozen=True, slots=True)
class EvseState:
    uid: str
    status: EvseStatus
    updated: datetime  # when this status was reported (or the site data changed)


@dataclass(frozen=True, slots=True)
class StatusSnapshot:
    """Every EVSE's state at one moment; ``last_modified`` is the newest change in it."""

    states: Mapping[str, EvseState]
    last_modified: datetime


def _connector_status(record: ConnectorRecord, transaction: bool) -> EvseStatus:
    status = record.status
    if status in _IN_USE:
        if status in _CHARGING_16 or transaction:
            return EvseStatus.CHARGING
        return EvseStatus.OCCUPIED
    if status == "Available":
        return EvseStatus.AVAILABLE
    if status == "Reserved":
        return EvseStatus.RESERVED
    if status == "Faulted":
        return EvseStatus.OUT_OF_ORDER
    if status == "Unavailable":
        return EvseStatus.INOPERATIVE
    return EvseStatus.UNKNOWN


def evse_states(
    sites: Sites,
    stations: Mapping[str, StationRecord],
    connectors: Mapping[str, Sequence[ConnectorRecord]],
    transactions: Iterable[TransactionRecord],
) -> dict[str, EvseState]:
    """One state per EVSE uid of ``sites``; ``connectors`` and ``stations`` by station id,
    ``transactions`` the active ones (others are ignored)."""
    busy = {(t.station_id, t.evse_id) for t in transactions if t.state == "active"}
    states: dict[str, EvseState] = {}
    for location in sites.locations:
        static_time = sites.location_updated(location)
        for evse in location.evses:
            if evse.status is not None:
                states[evse.uid] = EvseState(evse.uid, EvseStatus(evse.status), static_time)
                continue
            station = stations.get(evse.station)
            records = connectors.get(evse.station, ())
            if station is None or not station.connected:
                since = station.last_seen if station and station.last_seen else static_time
                states[evse.uid] = EvseState(evse.uid, EvseStatus.UNKNOWN, since)
                continue
            states[evse.uid] = _one_evse(evse.uid, evse.ocpp_evse, records, station,
                                         (evse.station, evse.ocpp_evse) in busy, static_time)
    return states


def _one_evse(uid: str, ocpp_evse: int, records: Sequence[ConnectorRecord],
              station: StationRecord, busy: bool, static_time: datetime) -> EvseState:
    whole = [r for r in records if r.evse_id == 0 and station.ocpp_version == "1.6"]
    if whole and whole[-1].status in ("Faulted", "Unavailable"):
        return EvseState(uid, _connector_status(whole[-1], False), whole[-1].updated_at)
    mine = [r for r in records if r.evse_id == ocpp_evse]
    if not mine:
        since = station.last_seen or static_time
        return EvseState(uid, EvseStatus.UNKNOWN, since)
    best = min((_connector_status(r, busy) for r in mine), key=_RANK.__getitem__)
    return EvseState(uid, best, max(r.updated_at for r in mine))


def snapshot(sites: Sites, states: Mapping[str, EvseState]) -> StatusSnapshot:
    times = [s.updated for s in states.values()]
    return StatusSnapshot(dict(states), max([sites.last_updated, *times]))
