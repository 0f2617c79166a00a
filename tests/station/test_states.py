import pytest

from ocppnet.station.states import (
    TRANSITIONS,
    ConnectorStatus,
    Event,
    IllegalTransition,
    next_status,
)

S = ConnectorStatus


def test_happy_path_of_a_session() -> None:
    status = S.AVAILABLE
    for event, expected in [
        (Event.PLUG_IN, S.PREPARING),
        (Event.START, S.CHARGING),
        (Event.SUSPEND_EVSE, S.SUSPENDED_EVSE),
        (Event.RESUME, S.CHARGING),
        (Event.STOP, S.FINISHING),
        (Event.UNPLUG, S.AVAILABLE),
    ]:
        status = next_status("EVSE 1 connector 1", status, event)
        assert status is expected


def test_illegal_transition_names_connector_event_and_state() -> None:
    with pytest.raises(IllegalTransition) as info:
        next_status("EVSE 2 connector 1", S.AVAILABLE, Event.START)
    assert str(info.value) == "EVSE 2 connector 1: cannot start while Available"
    assert info.value.status is S.AVAILABLE and info.value.event is Event.START


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("event", list(Event))
def test_every_pair_either_moves_or_refuses(status: S, event: Event) -> None:
    if (status, event) in TRANSITIONS:
        assert next_status("x", status, event) is TRANSITIONS[(status, event)]
    else:
        with pytest.raises(IllegalTransition):
            next_status("x", status, event)


def test_unavailable_and_faulted_refuse_a_car() -> None:
    for status in (S.UNAVAILABLE, S.FAULTED):
        with pytest.raises(IllegalTransition):
            next_status("x", status, Event.PLUG_IN)


def test_201_reports_occupied_for_every_cable_in_status() -> None:
    occupied = {s for s in S if s.as_201() == "Occupied"}
    assert occupied == {S.PREPARING, S.CHARGING, S.SUSPENDED_EV, S.SUSPENDED_EVSE, S.FINISHING}
    assert S.FAULTED.as_201() == "Faulted"
