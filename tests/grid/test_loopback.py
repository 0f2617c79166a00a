"""The grid operator on loopback, in one process with real WebSocket links:

    GRID-OP (Participant + GridOperator) -> CSMS-1 -> CS-1 (a station addressed directly)
    GRID-OP -> CSMS-1 -> NODE-A (tampers with answers, when asked) -> NODE-B (the site)

A station enforces the limit and its own failsafe; a receipt changed on the way is caught by
the operator; the site itself refuses a limit below its guaranteed minimum.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ocppnet.csms.app import CsmsApp
from ocppnet.csms.config import CsmsConfig
from ocppnet.grid.audit import AuditLog
from ocppnet.grid.config import GridSection, GridSiteSection, TargetSection
from ocppnet.grid.lpc import LpcState
from ocppnet.grid.messages import curtail_request
from ocppnet.grid.node_site import NodeGridSite
from ocppnet.grid.operator import CommandRefused, GridOperator
from ocppnet.grid.station_site import attach_to_station
from ocppnet.node.config import parse_config
from ocppnet.node.link_state import FrameEvent
from ocppnet.node.overlay_csms import serve_overlay_csms
from ocppnet.node.service import Node
from ocppnet.participant import Participant, ParticipantSection, UpstreamSection
from ocppnet.rpc.frames import Call, CallResult
from ocppnet.security.keys import KeyPair, public_pem
from ocppnet.station.clock import SimClock
from ocppnet.station.runtime import SimulatedStation
from ocppnet.station.scenario import Scenario
from ocppnet.transport import Backoff
from tests.grid.net import operator_security, site_security, until
from tests.integration import stop_node

HEARTBEAT_S = 0.3
TIMEOUT_S = 1.0


@pytest.fixture(scope="module")
def keys() -> dict[str, KeyPair]:
    return {name: KeyPair.generate("ed25519") for name in ("grid", "cs-1", "node-b")}


def site_section(name: str, **extra: Any) -> GridSiteSection:
    return GridSiteSection(operator="GRID-OP", signing_key=name, heartbeat_timeout_s=TIMEOUT_S,
                           measurement_interval_s=0, **extra)


class Topology:
    def __init__(self) -> None:
        self.tamper = False
        self.block = False
        self.station: SimulatedStation | None = None
        self.operator: GridOperator | None = None
        self.node_b: Node | None = None

    def tamper_answers(self, event: FrameEvent) -> None:
        """NODE-A gone bad: make a site's receipts say 'unlimited'."""
        frame = event.frame
        if self.tamper and event.direction == "in" and isinstance(frame, CallResult):
            receipt = frame.payload.get("receipt")
            if isinstance(receipt, dict):
                receipt["state"] = "unlimited"
                receipt.pop("limitW", None)


    def block_commands(self, call: Call, version: str) -> str | None:
        """NODE-A gone bad, differently: it refuses to pass the operator's curtailments."""
        if self.block and call.action == "SetChargingProfile":
            return "NODE-A does not forward limits"
        return None


@pytest.fixture
async def net(keys: dict[str, KeyPair], tmp_path: Path) -> AsyncIterator[Topology]:
    topo = Topology()
    async with contextlib.AsyncExitStack() as stack:
        app = await stack.enter_async_context(CsmsApp(CsmsConfig(store=":memory:", port=0)))
        csms = await serve_overlay_csms(app.handlers, node_id="CSMS-1",
                                        on_connect=app.on_connect,
                                        on_disconnect=app.on_disconnect)
        stack.push_async_callback(csms.close)
        url = f"ws://127.0.0.1:{csms.port}/ocpp"

        station = SimulatedStation(
            "CS-1", url, version="2.0.1", scenario=Scenario(auto=False, heartbeat_s=600),
            clock=SimClock(speed=1.0), backoff=Backoff(base=0.05, cap=0.2, jitter=0.0),
            call_timeout=5.0, security=site_security(keys["grid"], keys["cs-1"], "cs-1"))
        site = attach_to_station(station, site_section("cs-1"),
                                 site_security(keys["grid"], keys["cs-1"], "cs-1"))
        task = asyncio.create_task(station.run())

        async def stop_station() -> None:
            await site.stop()
            await station.close()
            await asyncio.wait_for(task, 5)

        stack.push_async_callback(stop_station)
        await until(lambda: station.accepted)
        await site.start()
        topo.station = station

        node_a = Node(parse_config({"node": {"id": "NODE-A", "upstreams": [
            {"id": "CSMS-1", "url": url, "mode": "overlay"}]}}))
        await node_a.start()
        stack.push_async_callback(stop_node, node_a)
        node_a.router.observers.append(topo.tamper_answers)
        node_a.router.guards.append(topo.block_commands)
        node_b = Node(parse_config({"node": {"id": "NODE-B", "announce_interval": 1.0,
                                             "upstreams": [
            {"id": "NODE-A", "url": f"ws://127.0.0.1:{node_a.port}/ocpp", "mode": "overlay"}],
            "load_management": {"capacity_w": 22000}}}))
        await node_b.start()
        stack.push_async_callback(stop_node, node_b)
        node_site = NodeGridSite(node_b, site_section("node-b", controllable_devices=2,
                                                      failsafe_limit_w=8000),
                                 site_security(keys["grid"], keys["node-b"], "node-b"))
        await node_site.start()
        stack.push_async_callback(node_site.stop)
        topo.node_b = node_b

        for name in ("cs-1", "node-b"):
            (tmp_path / f"{name}.pub.pem").write_bytes(public_pem(keys[name].public_key))
        grid = GridSection(heartbeat_period_s=HEARTBEAT_S, targets=(
            TargetSection(id="CS-1", key=tmp_path / "cs-1.pub.pem"),
            TargetSection(id="NODE-B", key=tmp_path / "node-b.pub.pem", devices=2)))
        participant = Participant(
            ParticipantSection(id="GRID-OP", call_timeout=3.0, upstreams=(
                UpstreamSection(id="CSMS-1", url=url),)),
            security=operator_security(keys["grid"]))
        audit = AuditLog(tmp_path / "audit.sqlite3")
        await audit.open()
        stack.push_async_callback(audit.close)
        topo.operator = GridOperator(participant, grid, audit)
        await stack.enter_async_context(participant)
        await until(lambda: csms.router.table.lookup("NODE-B", csms.router.clock()))
        yield topo
        await topo.operator.stop()


def station_limit(topo: Topology) -> float | None:
    assert topo.station is not None
    return topo.station.model.profiles.station_limit_w(topo.station.clock.now())


async def test_a_station_addressed_directly_enforces_the_limit_and_its_own_failsafe(
        net: Topology) -> None:
    operator = net.operator
    assert operator is not None
    entry = await operator.curtail("CS-1", 6_000, 600)
    assert (entry.outcome, entry.proven, entry.state, entry.in_force_w) == (
        "Accepted", True, "limited", 6_000.0)
    assert entry.until is not None and entry.since is not None
    assert entry.until - entry.since == pytest.approx(600, abs=1)
    assert station_limit(net) == 6_000
    operator.start()  # heartbeats keep it controlled
    await until(lambda: operator.targets["CS-1"].answered_at is not None)
    await operator.stop()  # the operator goes silent: the station alone falls to failsafe
    await until(lambda: station_limit(net) == 4_200)
    operator.start()  # and back: the heartbeat carries the wanted limit again
    await until(lambda: station_limit(net) == 6_000)
    released = await operator.release("CS-1")
    assert (released.outcome, released.proven, released.state) == ("Accepted", True,
                                                                    "unlimited")
    assert station_limit(net) is None
    log = [(e.action, e.outcome, e.proven) for e in reversed(await operator.audit.recent())]
    assert log[0] == ("SetChargingProfile", "Accepted", True)
    assert log[-1] == ("ClearChargingProfile", "Accepted", True)


async def test_the_operator_refuses_below_minimum_and_so_does_the_site(
        net: Topology) -> None:
    operator = net.operator
    assert operator is not None
    with pytest.raises(CommandRefused, match="below the guaranteed minimum 7560 W for 2"):
        await operator.curtail("NODE-B", 6_000, 60)
    # sent anyway (an operator with a wrong device count): the site refuses it by itself
    response = await operator.participant.call(
        "NODE-B", "SetChargingProfile", curtail_request(6_000, 60, sequence=1))
    assert response["status"] == "Rejected"
    assert response["statusInfo"]["reasonCode"] == "BelowMinimum"
    assert "7560 W" in response["statusInfo"]["additionalInfo"]
    assert response["customData"]["state"] == "unlimited"
    with pytest.raises(CommandRefused, match="unknown target 'NODE-X'"):
        await operator.curtail("NODE-X", 6_000, 60)


async def test_a_node_limit_caps_the_load_manager_and_a_tampered_receipt_is_caught(
        net: Topology) -> None:
    operator, node_b = net.operator, net.node_b
    assert operator is not None and node_b is not None and node_b.load_manager is not None
    entry = await operator.curtail("NODE-B", 9_000, 600)
    assert (entry.outcome, entry.proven, entry.in_force_w) == ("Accepted", True, 9_000.0)
    assert node_b.load_manager.grid_limit_w == 9_000
    net.tamper = True  # NODE-A now rewrites NODE-B's receipts to "unlimited"
    await operator.heartbeat(operator.targets["NODE-B"])
    state = operator.targets["NODE-B"]
    assert not state.proven
    assert "not signed by NODE-B's key" in state.problem and "invalid" in state.problem
    assert state.receipt is not None and state.receipt.state is LpcState.LIMITED  # last proof
    [entry] = await operator.audit.recent(limit=1)
    assert (entry.action, entry.proven) == ("GridHeartbeat", False)
    assert node_b.load_manager.grid_limit_w == 9_000  # the site is not fooled either


async def test_a_blocked_curtailment_is_repaired_by_the_next_heartbeat(net: Topology) -> None:
    operator, node_b = net.operator, net.node_b
    assert operator is not None and node_b is not None and node_b.load_manager is not None
    net.block = True
    entry = await operator.curtail("NODE-B", 9_000, 600)
    assert entry.outcome == "SecurityError" and not entry.proven
    assert node_b.load_manager.grid_limit_w is None  # the command did not arrive
    beat = await operator.heartbeat(operator.targets["NODE-B"])
    assert beat is not None and (beat.proven, beat.state, beat.in_force_w) == (
        True, "limited", 9_000.0)  # the heartbeat carried the wanted limit
    assert node_b.load_manager.grid_limit_w == 9_000
