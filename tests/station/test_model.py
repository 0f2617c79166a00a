import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocppnet.errors import GenericError
from ocppnet.station.ev import ElectricVehicle
from ocppnet.station.events import (
    ChargingStateChanged,
    StatusChanged,
    TransactionEnded,
    TransactionStarted,
)
from ocppnet.station.model import StationConfig, StationModel
from ocppnet.station.profiles import ChargingProfile, profile_from_201
from ocppnet.station.states import ConnectorStatus, IllegalTransition

T0 = 1_735_689_600.0
S = ConnectorStatus


def model(**config: Any) -> StationModel:
    counter = itertools.count(1)
    return StationModel(StationConfig(**config), T0,
                        new_transaction_id=lambda: f"tx-{next(counter)}")


def w_profile(pid: int, purpose: str, limit: float, evse: int = 1) -> ChargingProfile:
    p = profile_from_201({"evseId": evse, "chargingProfile": {
        "id": pid, "stackLevel": 0, "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Relative" if purpose != "ChargingStationMaxProfile"
        else "Absolute",
        "chargingSchedule": [{"id": 1, "chargingRateUnit": "W",
                              "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}]}]}},
        T0)
    assert isinstance(p, ChargingProfile)
    return p


def test_session_lifecycle_events() -> None:
    m = model(evse_max_power_w=11_000)
    events = m.plug_in(1, ElectricVehicle(), T0)
    assert events == [StatusChanged(1, 1, S.PREPARING)]
    events = m.authorize(1, "TOKEN", T0 + 5)
    assert events[0] == StatusChanged(1, 1, S.CHARGING)
    assert events[1] == TransactionStarted(1, 1, "tx-1", "TOKEN", None, 0.0)
    assert m.evses[1].power_w == 11_000
    events = m.stop(1, "Local", T0 + 3_605)
    assert events[0] == StatusChanged(1, 1, S.FINISHING)
    ended = events[1]
    assert isinstance(ended, TransactionEnded) and ended.reason == "Local"
    assert ended.meter_wh == pytest.approx(11_000)
    assert m.unplug(1, T0 + 3_700) == [StatusChanged(1, 1, S.AVAILABLE)]
    assert m.evses[1].session is None


def test_authorize_first_then_plug_in_starts() -> None:
    m = model()
    assert m.authorize(1, "T", T0, remote_start_id=42) == []
    events = m.plug_in(1, ElectricVehicle(), T0 + 1)
    started = [e for e in events if isinstance(e, TransactionStarted)]
    assert started and started[0].remote_start_id == 42


def test_unplug_while_charging_ends_with_ev_disconnected() -> None:
    m = model()
    m.plug_in(1, ElectricVehicle(), T0)
    m.authorize(1, "T", T0)
    events = m.unplug(1, T0 + 60)
    assert isinstance(events[-1], TransactionEnded) and events[-1].reason == "EVDisconnected"


def test_illegal_moves_are_refused_clearly() -> None:
    m = model()
    with pytest.raises(GenericError, match="no running transaction"):
        m.stop(1, "Local", T0)
    with pytest.raises(GenericError, match="no car plugged in"):
        m.unplug(1, T0)
    m.plug_in(1, ElectricVehicle(), T0)
    with pytest.raises(GenericError, match="already has a car"):
        m.plug_in(1, ElectricVehicle(), T0)
    with pytest.raises(GenericError, match="no EVSE 9"):
        m.plug_in(9, ElectricVehicle(), T0)
    m2 = model()
    from ocppnet.station.states import Event
    m2.set_status(1, 1, Event.DISABLE, T0)
    with pytest.raises(IllegalTransition, match="cannot plug_in while Unavailable"):
        m2.plug_in(1, ElectricVehicle(), T0)


def test_profile_caps_power_and_zero_limit_suspends() -> None:
    m = model(evse_max_power_w=22_000)
    m.plug_in(1, ElectricVehicle(max_power_w=22_000), T0)
    m.authorize(1, "T", T0)
    assert m.evses[1].power_w == 22_000
    m.profiles.install(w_profile(1, "TxDefaultProfile", 4_200))
    m.advance(T0 + 10)
    assert m.evses[1].power_w == 4_200
    m.profiles.install(w_profile(2, "ChargingStationExternalConstraints", 0))
    events = m.advance(T0 + 20)
    assert ChargingStateChanged(1, "tx-1", S.SUSPENDED_EVSE) in events
    assert m.evses[1].status(1) is S.SUSPENDED_EVSE and m.evses[1].power_w == 0
    m.profiles.clear(profile_id=2)
    assert ChargingStateChanged(1, "tx-1", S.CHARGING) in m.advance(T0 + 30)


def test_station_max_is_shared_between_evses() -> None:
    m = model(evse_count=2, evse_max_power_w=11_000)
    for evse in (1, 2):
        m.plug_in(evse, ElectricVehicle(), T0)
        m.authorize(evse, f"T{evse}", T0)
    m.profiles.install(w_profile(1, "ChargingStationMaxProfile", 10_000, evse=0))
    m.advance(T0 + 1)
    assert m.evses[1].power_w + m.evses[2].power_w == pytest.approx(10_000)


def test_full_car_suspends_ev_and_energy_matches_battery() -> None:
    m = model(evse_max_power_w=11_000)
    ev = ElectricVehicle(capacity_wh=10_000, soc=0.5, max_power_w=11_000)
    m.plug_in(1, ev, T0)
    m.authorize(1, "T", T0)
    events = m.advance(T0 + 6 * 3_600)
    assert ChargingStateChanged(1, "tx-1", S.SUSPENDED_EV) in events or ev.soc > 0.999
    assert m.evses[1].energy_wh == pytest.approx(ev.soc * 10_000 - 5_000, rel=1e-6)
    assert m.evses[1].energy_wh <= 5_000 + 1e-6


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 900), st.floats(0, 30_000)), min_size=1, max_size=30))
def test_energy_register_is_monotonic_and_bounded_by_limits(
        steps: list[tuple[float, float]]) -> None:
    m = model(evse_max_power_w=22_000)
    m.plug_in(1, ElectricVehicle(capacity_wh=80_000, soc=0.1, max_power_w=50_000), T0)
    m.authorize(1, "T", T0)
    now, last = T0, 0.0
    for pid, (dt, limit) in enumerate(steps, start=1):
        m.profiles.install(w_profile(pid, "TxDefaultProfile", limit))
        m.advance(now)
        before = m.evses[1].energy_wh
        now += dt
        m.advance(now)
        energy = m.evses[1].energy_wh
        assert energy >= last
        # never more than the profile (and the EVSE) allowed over the interval
        assert energy - before <= min(limit, 22_000) * dt / 3600 + 1e-6
        last = energy
