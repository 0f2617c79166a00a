"""A grid site's state survives a restart: the pure restore of the LPC machine (what became
due while the site was down is applied) and GridSite with a real state file."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocppnet.errors import ConfigError
from ocppnet.grid.config import GridSiteSection
from ocppnet.grid.lpc import (
    Curtail,
    Event,
    Heartbeat,
    LpcError,
    LpcMachine,
    LpcSettings,
    LpcState,
    LpcStatus,
    Release,
    Tick,
)
from ocppnet.grid.messages import curtail_request
from ocppnet.grid.site import GridSite
from ocppnet.grid.state_file import SiteState, load_site_state, save_site_state
from tests.grid.net import site_security
from tests.grid.test_site import OPERATOR, SITE, Clock, ctx, signed

SETTINGS = LpcSettings(heartbeat_timeout_s=120.0, failsafe_limit_w=4_200.0,
                       failsafe_duration_s=600.0, minimum_w=4_200.0)


def curtailed(at: float = 1_000.0) -> LpcMachine:
    machine = LpcMachine(SETTINGS, now=at)
    machine.handle(Curtail(6_000.0, 300.0, at))
    return machine


# --- pure: LpcMachine.snapshot / restore ------------------------------------------------


def test_a_curtailment_still_running_is_in_force_again() -> None:
    restored = LpcMachine.restore(SETTINGS, curtailed().snapshot(), now=1_060.0)
    status = restored.status()
    assert (status.state, status.limit_w, status.until) == (LpcState.LIMITED, 6_000.0, 1_300.0)
    assert status.heartbeat_due == 1_120.0  # the operator's timeout runs on, not anew


def test_a_restart_past_the_heartbeat_timeout_is_failsafe_not_unlimited() -> None:
    restored = LpcMachine.restore(SETTINGS, curtailed().snapshot(), now=1_200.0)
    status = restored.status()
    assert status.state is LpcState.FAILSAFE and status.limit_w == 4_200.0
    assert status.since == 1_120.0  # when the timeout passed, not when the site came back
    assert LpcMachine.restore(SETTINGS, curtailed().snapshot(), now=1_800.0).status().state \
        is LpcState.UNLIMITED_AUTONOMOUS


def test_a_clock_behind_the_snapshot_counts_as_no_time() -> None:
    restored = LpcMachine.restore(SETTINGS, curtailed(at=2_000.0).snapshot(), now=1_000.0)
    assert restored.status().state is LpcState.LIMITED and restored.now == 2_000.0


@pytest.mark.parametrize(("change", "message"), [
    ({"state": "sleeping"}, "state: expected one of"),
    ({"since": "yesterday"}, "since: expected a number"),
    ({"limit_w": None}, "limit_w, limit_until: a limited state needs both"),
    ({"alive_from": float("nan")}, "alive_from: expected a number"),
])
def test_a_bad_snapshot_names_the_field(change: dict[str, object], message: str) -> None:
    snapshot = {**curtailed().snapshot(), **change}
    with pytest.raises(ValueError, match=message):
        LpcMachine.restore(SETTINGS, snapshot, now=1_000.0)


_steps = st.lists(st.tuples(st.floats(0.0, 400.0),
                            st.sampled_from(["heartbeat", "curtail", "release", "tick"]),
                            st.floats(4_200.0, 20_000.0), st.floats(1.0, 1_000.0)),
                  max_size=30)


@given(_steps, st.floats(0.0, 2_000.0))
def test_restore_then_wait_equals_never_stopping(
        steps: list[tuple[float, str, float, float]], down_for: float) -> None:
    """A site that was down for a while is where it would be had it run on silently."""
    machine, now = LpcMachine(SETTINGS, now=1_000.0), 1_000.0
    for gap, kind, limit, duration in steps:
        now += gap
        events: dict[str, Event] = {"heartbeat": Heartbeat(now), "release": Release(now),
                                    "curtail": Curtail(limit, duration, now), "tick": Tick(now)}
        try:
            machine.handle(events[kind])
        except LpcError:
            machine.handle(Tick(now))
    restored = LpcMachine.restore(SETTINGS, machine.snapshot(), now=now + down_for)
    assert restored.status() == machine.handle(Tick(now + down_for))


# --- GridSite with a state file ---------------------------------------------------------


def site(clock: Clock, path: Path, applied: list[LpcStatus], target: str = "NODE-B") -> GridSite:
    section = GridSiteSection(operator="GRID-OP", signing_key="site", heartbeat_timeout_s=120,
                              measurement_interval_s=0, state_file=path)
    return GridSite(target, section, site_security(OPERATOR, SITE, "site"), applied.append,
                    clock=clock)


async def test_a_restarted_site_enforces_the_curtailment_and_refuses_a_replay(
        tmp_path: Path) -> None:
    path, clock = tmp_path / "grid-state.json", Clock()
    first: list[LpcStatus] = []
    command = signed("SetChargingProfile", curtail_request(6_000, 600, sequence=5))
    answer = await site(clock, path, first).on_command(ctx("SetChargingProfile"), command)
    assert answer["status"] == "Accepted" and path.exists()

    clock.now += 30  # the node restarts
    again: list[LpcStatus] = []
    restarted = site(clock, path, again)
    await restarted.start()
    try:
        assert again[-1].state is LpcState.LIMITED and again[-1].limit_w == 6_000
        assert restarted.last_sequence == 5
        replay = await restarted.on_command(ctx("SetChargingProfile"), command)
        assert replay["status"] == "Rejected"
        assert replay["statusInfo"]["reasonCode"] == "StaleSequence"
    finally:
        await restarted.stop()


def test_a_state_file_of_another_target_or_malformed_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "grid-state.json"
    save_site_state(path, SiteState("NODE-A", 3, curtailed().snapshot()))
    assert load_site_state(path, "NODE-A") == SiteState("NODE-A", 3, curtailed().snapshot())
    with pytest.raises(ConfigError, match="target: the file holds the state of 'NODE-A', "
                                          "this site is 'NODE-B'"):
        site(Clock(), path, [])
    path.write_bytes(orjson.dumps({"format": 1, "target": "NODE-B", "last_sequence": 3,
                                   "machine": {**curtailed().snapshot(), "state": "nap"}}))
    with pytest.raises(ConfigError, match=r"grid-state\.json: machine\.state: expected one of"):
        site(Clock(), path, [])
    path.write_bytes(b"{half")
    with pytest.raises(ConfigError, match=r"grid-state\.json: not JSON"):
        site(Clock(), path, [])
