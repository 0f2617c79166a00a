"""The LPC state machine without sockets or clocks: transitions, timed transitions, refusals."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocppnet.grid.lpc import (
    Curtail,
    Event,
    Heartbeat,
    LpcError,
    LpcMachine,
    LpcSettings,
    LpcState,
    Release,
    Tick,
)
from ocppnet.grid.minimum import guaranteed_minimum_w, simultaneity_factor

SETTINGS = LpcSettings(heartbeat_timeout_s=120.0, failsafe_limit_w=4_200.0,
                       failsafe_duration_s=7_200.0, minimum_w=4_200.0)


def machine() -> LpcMachine:
    return LpcMachine(SETTINGS, now=1_000.0)


def test_starts_unlimited_and_goes_failsafe_if_the_operator_never_shows_up() -> None:
    m = machine()
    assert m.status().state is LpcState.UNLIMITED
    assert m.status().heartbeat_due == 1_120.0
    status = m.handle(Tick(1_119.9))
    assert status.state is LpcState.UNLIMITED
    status = m.handle(Tick(1_500.0))
    assert status.state is LpcState.FAILSAFE
    assert status.since == 1_120.0  # when it was due, not when the tick came
    assert status.limit_w == 4_200.0
    assert status.until == 1_120.0 + 7_200.0


def test_limit_with_duration_then_back_to_unlimited() -> None:
    m = machine()
    m.handle(Heartbeat(1_010.0))
    status = m.handle(Curtail(6_000.0, 60.0, 1_020.0))
    assert (status.state, status.limit_w, status.since, status.until) == (
        LpcState.LIMITED, 6_000.0, 1_020.0, 1_080.0)
    m.handle(Heartbeat(1_070.0))
    status = m.handle(Tick(1_090.0))
    assert status.state is LpcState.UNLIMITED
    assert status.since == 1_080.0
    assert status.limit_w is None


def test_a_new_limit_replaces_the_old_one() -> None:
    m = machine()
    m.handle(Curtail(6_000.0, 600.0, 1_010.0))
    status = m.handle(Curtail(8_000.0, 30.0, 1_020.0))
    assert (status.limit_w, status.until) == (8_000.0, 1_050.0)


def test_release_lifts_the_limit() -> None:
    m = machine()
    m.handle(Curtail(6_000.0, 600.0, 1_010.0))
    status = m.handle(Release(1_020.0))
    assert status.state is LpcState.UNLIMITED
    assert [(t, a.value, b.value) for t, a, b in m.transitions] == [
        (1_010.0, "unlimited", "limited"), (1_020.0, "limited", "unlimited")]


def test_heartbeat_timeout_while_limited_goes_failsafe_with_the_failsafe_limit() -> None:
    m = machine()
    m.handle(Curtail(10_000.0, 3_600.0, 1_000.0))
    status = m.handle(Tick(1_200.0))
    assert status.state is LpcState.FAILSAFE
    assert status.limit_w == 4_200.0
    assert status.since == 1_120.0


def test_back_to_normal_when_the_heartbeat_returns() -> None:
    m = machine()
    m.handle(Tick(2_000.0))
    assert m.state is LpcState.FAILSAFE
    status = m.handle(Heartbeat(2_010.0))
    assert status.state is LpcState.UNLIMITED
    assert status.limit_w is None
    assert status.heartbeat_due == 2_130.0


def test_failsafe_runs_out_into_unlimited_autonomous_and_heartbeat_brings_control_back() -> None:
    m = machine()
    status = m.handle(Tick(1_120.0 + 7_200.0 + 1))
    assert status.state is LpcState.UNLIMITED_AUTONOMOUS
    assert status.since == 1_120.0 + 7_200.0
    assert status.limit_w is None
    assert m.next_deadline() is None
    assert m.handle(Heartbeat(9_000.0)).state is LpcState.UNLIMITED


def test_curtail_in_failsafe_goes_limited() -> None:
    m = machine()
    m.handle(Tick(1_500.0))
    status = m.handle(Curtail(5_000.0, 60.0, 1_600.0))
    assert (status.state, status.limit_w) == (LpcState.LIMITED, 5_000.0)


def test_limit_ending_exactly_at_the_heartbeat_deadline_goes_failsafe() -> None:
    m = machine()
    m.handle(Curtail(6_000.0, 120.0, 1_000.0))  # ends at 1120 = heartbeat due
    assert m.handle(Tick(1_121.0)).state is LpcState.FAILSAFE


@pytest.mark.parametrize(("event", "code"), [
    (Curtail(4_199.0, 60.0, 1_010.0), "BelowMinimum"),
    (Curtail(-1.0, 60.0, 1_010.0), "InvalidLimit"),
    (Curtail(float("nan"), 60.0, 1_010.0), "InvalidLimit"),
    (Curtail(6_000.0, 0.0, 1_010.0), "InvalidDuration"),
    (Release(1_010.0), "NoLimit"),
    (Heartbeat(999.0), "ClockBackwards"),
])
def test_refused_events_name_the_reason_and_change_nothing(event: Event, code: str) -> None:
    m = machine()
    before = m.status()
    with pytest.raises(LpcError) as info:
        m.handle(event)
    assert info.value.reason_code == code
    assert len(code) <= 20
    assert m.status() == before


def test_release_in_failsafe_is_refused_with_a_hint() -> None:
    m = machine()
    m.handle(Tick(1_500.0))
    with pytest.raises(LpcError, match="failsafe ends with a heartbeat"):
        m.handle(Release(1_501.0))
    assert m.state is LpcState.FAILSAFE


def test_below_minimum_message_is_precise() -> None:
    m = LpcMachine(LpcSettings(minimum_w=guaranteed_minimum_w(3), failsafe_limit_w=10_500.0),
                   now=0.0)
    with pytest.raises(LpcError, match=r"limit 6000 W is below the guaranteed minimum 10500 W"):
        m.handle(Curtail(6_000.0, 60.0, 1.0))


def test_settings_refuse_a_failsafe_limit_below_the_minimum() -> None:
    with pytest.raises(ValueError, match="failsafe_limit_w"):
        LpcSettings(failsafe_limit_w=3_000.0, minimum_w=4_200.0)


# --- the guaranteed minimum (BK6-22-300) -------------------------------------------------


def test_minimum_for_one_device_is_4_2_kw() -> None:
    assert guaranteed_minimum_w(1) == 4_200.0


@pytest.mark.parametrize(("devices", "expected"), [
    (2, 4_200 + 1 * 0.80 * 4_200),   # 7560
    (3, 4_200 + 2 * 0.75 * 4_200),   # 10500
    (4, 4_200 + 3 * 0.70 * 4_200),
    (8, 4_200 + 7 * 0.50 * 4_200),
    (9, 4_200 + 8 * 0.45 * 4_200),
    (20, 4_200 + 19 * 0.45 * 4_200),
])
def test_minimum_behind_an_ems(devices: int, expected: float) -> None:
    assert guaranteed_minimum_w(devices) == pytest.approx(expected, abs=1.0)


def test_minimum_grows_with_every_device_and_stays_below_n_times_4_2_kw() -> None:
    values = [guaranteed_minimum_w(n) for n in range(1, 30)]
    assert all(a < b for a, b in itertools.pairwise(values))
    assert all(v <= n * 4_200 for n, v in enumerate(values, start=1))
    with pytest.raises(ValueError, match="devices must be >= 1"):
        simultaneity_factor(0)


# --- properties ---------------------------------------------------------------------------

_steps = st.lists(
    st.tuples(
        st.floats(min_value=0.0, max_value=400.0),
        st.sampled_from(["heartbeat", "curtail", "release", "tick"]),
        st.floats(min_value=0.0, max_value=20_000.0),
        st.floats(min_value=1.0, max_value=10_000.0),
    ),
    max_size=40,
)


@given(_steps)
def test_no_event_sequence_keeps_a_silent_operator_in_control(steps: list[
        tuple[float, str, float, float]]) -> None:
    """Whatever arrives: a limit in force is >= the minimum; the site is only controlled
    (unlimited/limited) while the last sign of life is younger than the timeout; time in the
    transition log never goes back."""
    m = machine()
    now = 1_000.0
    for gap, kind, limit, duration in steps:
        now += gap
        events: dict[str, Event] = {
            "heartbeat": Heartbeat(now), "curtail": Curtail(limit, duration, now),
            "release": Release(now), "tick": Tick(now)}
        event = events[kind]
        try:
            status = m.handle(event)
        except LpcError:
            status = m.handle(Tick(now))
        if status.limit_w is not None:
            assert status.limit_w >= SETTINGS.minimum_w
        if status.state in (LpcState.UNLIMITED, LpcState.LIMITED):
            alive = m.last_heartbeat if m.last_heartbeat is not None else 1_000.0
            assert now - alive < SETTINGS.heartbeat_timeout_s
        if status.state is LpcState.LIMITED:
            assert status.until is not None and status.until > now
        times = [t for t, _, _ in m.transitions]
        assert times == sorted(times)
