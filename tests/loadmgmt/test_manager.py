"""Loopback: a CSMS, a node with the load manager, three simulated stations on 11 kW."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from ocppnet.loadmgmt.config import LoadConfig
from ocppnet.node.service import load_manager_for
from ocppnet.station.clock import SimClock
from ocppnet.station.model import StationConfig
from ocppnet.station.runtime import SimulatedStation
from ocppnet.station.scenario import Scenario
from ocppnet.transport import CallContext
from tests.node.helpers import (
    FAST,
    Recorder,
    node_config,
    overlay_csms,
    running_node,
    station_url,
    until,
    upstream,
)

SITE_W = 11_000.0


def csms_recorder() -> Recorder:
    """The helpers' recording CSMS plus what a charging session needs, in 1.6 and 2.0.1."""
    recorder = Recorder()
    h, ids = recorder.handlers, itertools.count(1)

    @h.on("Authorize")
    async def authorize(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        key = "idTagInfo" if ctx.version == "1.6" else "idTokenInfo"
        return {key: {"status": "Accepted"}}

    @h.on("StartTransaction")
    async def start(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        return {"transactionId": next(ids), "idTagInfo": {"status": "Accepted"}}

    @h.on("StopTransaction")
    async def stop(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        return {}

    @h.on("MeterValues")
    async def meter(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        return {}

    return recorder


def station(name: str, url: str, version: str) -> SimulatedStation:
    return SimulatedStation(
        name, url, version=version, config=StationConfig(evse_max_power_w=11_000),
        scenario=Scenario(auto=False, meter_interval_s=10, heartbeat_s=600),
        clock=SimClock(speed=60), backoff=FAST, seed=1, call_timeout=5.0)


def limit_w(sim: SimulatedStation) -> float | None:
    evse = sim.model.evses[1]
    session = evse.session
    return sim.model.profiles.evse_limit_w(
        1, sim.clock.now(), transaction_id=session.transaction_id if session else None,
        tx_start=session.started_at if session else None)


def drawn_w(stations: list[SimulatedStation]) -> float:
    return sum(sim.model.evses[1].power_w for sim in stations)


async def plug_and_charge(sim: SimulatedStation) -> None:
    sim.apply(sim.model.plug_in(1, sim.scenario.new_ev(sim.rng), sim.clock.now()))
    assert await sim.present_token(1, sim.scenario.id_token)


async def test_three_stations_share_11_kw_and_get_more_when_one_stops() -> None:
    recorder = csms_recorder()
    async with overlay_csms(recorder) as csms, running_node(
        node_config("NODE-LM", [upstream("CSMS-1", csms.port)])
    ) as node:
        manager = load_manager_for(node.router, LoadConfig(capacity_w=12_000, reserve_w=1_000,
                                                           evse_max_w=11_000, interval_s=60.0))
        url = station_url(node)
        stations = [station("CS-1", url, "2.0.1"), station("CS-2", url, "2.0.1"),
                    station("CS-3", url, "1.6")]
        async with manager:  # observing before the first station boots
            tasks = [asyncio.create_task(sim.run()) for sim in stations]
            try:
                await until(lambda: all(sim.accepted for sim in stations), "all booted")
                idle = {(sim.station_id, 0): 1_400.0 for sim in stations}
                await until(lambda: manager.sent == idle, "a booted station idles at 1.4 kW")
                assert all(limit_w(sim) == 1_400 for sim in stations)
                await asyncio.gather(*(plug_and_charge(sim) for sim in stations))

                share = 3_666.0  # 11 kW / 3, whole watts
                thirds = {**idle, ("CS-1", 1): share, ("CS-2", 1): share, ("CS-3", 1): share}
                await until(lambda: manager.sent == thirds, "every station accepted its third")
                assert all(limit_w(sim) == share for sim in stations)
                assert all(sim.model.evses[1].offered_w <= share for sim in stations)
                assert drawn_w(stations) <= SITE_W
                # both dialects got the profile, validated by the node's Connections
                assert node.router.local is manager.endpoint
                assert manager.endpoint.connections["CS-3"].version == "1.6"

                last = stations[2]
                last.apply(last.model.stop(1, "Local", last.clock.now()))
                halves = {**idle, ("CS-1", 1): 5_500.0, ("CS-2", 1): 5_500.0, ("CS-3", 1): 1_400}
                await until(lambda: manager.sent == halves,
                            "the two remaining stations share the freed capacity")
                assert all(limit_w(sim) == 5_500 for sim in stations[:2])
                assert set(manager.tracker.sessions) == {("CS-1", 1), ("CS-2", 1)}
                assert drawn_w(stations) <= SITE_W
                assert last.model.evses[1].power_w == 0.0
                assert limit_w(last) == 1_400  # its next session starts low

                manager.set_grid_limit(7_000)  # the grid operator curtails the site
                await until(lambda: manager.sent[("CS-1", 1)] == manager.sent[("CS-2", 1)]
                            == 3_500, "the curtailment reaches both stations")
                assert drawn_w(stations) <= 7_000
            finally:
                await asyncio.gather(*(sim.close() for sim in stations))
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        # the stations' charging requests went on to the CSMS: the node still forwards
        assert {s for s, _, _ in recorder.actions("TransactionEvent")} == {"CS-1", "CS-2"}
