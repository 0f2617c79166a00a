"""The join of site data and station reports into each EVSE's status (pure)."""

from __future__ import annotations

from datetime import timedelta

from ocppnet.nap.sites import Sites
from ocppnet.nap.status import EvseStatus, evse_states, snapshot
from ocppnet.store.records import TransactionRecord
from tests.nap.conftest import T0, connector, station

LATER = T0 + timedelta(minutes=5)


def _tx(station_id: str, evse: int) -> TransactionRecord:
    return TransactionRecord(1, station_id, "tx-1", evse, 1, "TOKEN", T0, None, 0.0, None,
                             None, None, "active")


def test_unknown_until_a_station_connects_and_reports(sites: Sites) -> None:
    states = evse_states(sites, {}, {}, [])
    assert states["MARKT-D1-1"].status is EvseStatus.UNKNOWN
    assert states["SEE-PLANNED-1"].status is EvseStatus.PLANNED  # site data wins
    states = evse_states(sites, {"CS-D1": station("CS-D1")}, {}, [])
    assert states["MARKT-D1-1"].status is EvseStatus.UNKNOWN  # connected, nothing reported


def test_reported_status_and_its_time(sites: Sites) -> None:
    stations = {s: station(s) for s in ("CS-D1", "CS-A1", "CS-A2", "CS-B1")}
    connectors = {
        "CS-D1": [connector("CS-D1", 1, "Available", LATER)],
        "CS-A1": [connector("CS-A1", 1, "Faulted", LATER)],
        "CS-A2": [connector("CS-A2", 1, "Unavailable")],
        "CS-B1": [connector("CS-B1", 1, "Occupied")],
    }
    states = evse_states(sites, stations, connectors, [])
    assert states["MARKT-D1-1"].status is EvseStatus.AVAILABLE
    assert states["MARKT-D1-1"].updated == LATER
    assert states["MARKT-A1-1"].status is EvseStatus.OUT_OF_ORDER
    assert states["MARKT-A2-1"].status is EvseStatus.INOPERATIVE
    assert states["HOF-B1-1"].status is EvseStatus.OCCUPIED  # plugged in, no transaction
    states = evse_states(sites, stations, connectors, [_tx("CS-B1", 1)])
    assert states["HOF-B1-1"].status is EvseStatus.CHARGING
    assert snapshot(sites, states).last_modified == LATER


def test_a_disconnected_station_is_unknown_from_its_last_message(sites: Sites) -> None:
    gone = station("CS-D1", connected=False, at=LATER)
    states = evse_states(sites, {"CS-D1": gone},
                         {"CS-D1": [connector("CS-D1", 1, "Available")]}, [])
    assert states["MARKT-D1-1"].status is EvseStatus.UNKNOWN
    assert states["MARKT-D1-1"].updated == LATER


def test_one_usable_connector_keeps_the_evse_usable(sites: Sites) -> None:
    stations = {"CS-B2": station("CS-B2")}
    faulted_one = {"CS-B2": [connector("CS-B2", 1, "Faulted", connector_id=1),
                             connector("CS-B2", 1, "Available", connector_id=2)]}
    assert evse_states(sites, stations, faulted_one, [])["HOF-B2-1"].status \
        is EvseStatus.AVAILABLE
    faulted_both = {"CS-B2": [connector("CS-B2", 1, "Faulted", connector_id=1),
                              connector("CS-B2", 1, "Unavailable", connector_id=2)]}
    assert evse_states(sites, stations, faulted_both, [])["HOF-B2-1"].status \
        is EvseStatus.OUT_OF_ORDER


def test_ocpp16_connector_zero_faulted_is_the_whole_station(sites: Sites) -> None:
    stations = {"CS-B4": station("CS-B4", version="1.6")}
    reports = {"CS-B4": [connector("CS-B4", 0, "Faulted", LATER, connector_id=0),
                         connector("CS-B4", 1, "Available")]}
    state = evse_states(sites, stations, reports, [])["SEE-B4-1"]
    assert state.status is EvseStatus.OUT_OF_ORDER and state.updated == LATER
    reports["CS-B4"][1] = connector("CS-B4", 1, "Charging")
    reports["CS-B4"][0] = connector("CS-B4", 0, "Available", connector_id=0)
    assert evse_states(sites, stations, reports, [])["SEE-B4-1"].status is EvseStatus.CHARGING
