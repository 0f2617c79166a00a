"""Issue 4, end to end on loopback: a grid operator's signed SetChargingProfile crosses the CSMS
and two networking nodes to a simulated station, which verifies it against its own trust store
and applies it; tampered, out-of-role and replayed commands are refused with SecurityError.

    GRID-1 (Participant) ──overlay──┐
                                          CSMS-1 (CsmsApp on serve_overlay_csms)
                                             │ overlay
                                          NODE-B   (can be made malicious: rewrites payloads)
                                             │ overlay
                                          NODE-A   (optionally enforces roles: signature_guard)
                                             │ standard OCPP 2.0.1
                                          CS-1 (SimulatedStation with a SecurityContext)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from ocppnet.csms.app import CsmsApp
from ocppnet.csms.config import CsmsConfig
from ocppnet.errors import CallErrorReceived
from ocppnet.node.overlay_csms import OverlayCsmsServer, serve_overlay_csms
from ocppnet.node.router import FrameEvent
from ocppnet.node.service import Node
from ocppnet.participant import Participant, ParticipantSection, UpstreamSection
from ocppnet.rpc.frames import Call, JsonObject
from ocppnet.security.context import SecurityContext
from ocppnet.security.keys import KeyPair
from ocppnet.security.node_guard import signature_guard
from ocppnet.security.policy import PolicySet
from ocppnet.security.roles import RoleSet
from ocppnet.security.signer import CommandSigner, external_limit_profile
from ocppnet.security.trust import TrustStore
from ocppnet.station.clock import SimClock
from ocppnet.station.model import StationConfig
from ocppnet.station.runtime import SimulatedStation
from ocppnet.station.scenario import Scenario
from ocppnet.transport import Backoff
from tests.integration import overlay_node, stop_node

GRID_ROLE = {
    "name": "grid-operator",
    "allow": [{"action": "SetChargingProfile", "constraints": [
        {"field": "chargingProfile.chargingProfilePurpose", "op": "eq",
         "value": "ChargingStationExternalConstraints"},
        {"field": "chargingProfile.chargingSchedule[*].chargingRateUnit", "op": "eq",
         "value": "W"},
        {"field": "chargingProfile.chargingSchedule[*].chargingSchedulePeriod[*].limit",
         "op": "ge", "value": 4200},
    ]}],
}


def station_security(grid: KeyPair, station: KeyPair) -> SecurityContext:
    """The station trusts only the grid operator's key; it signs its responses."""
    trust = TrustStore()
    trust.add(grid.public_key, name="grid-operator")
    config: dict[str, Any] = {
        "policies": [{"id": "station", "rules": [
            {"direction": "incoming", "action": "SetChargingProfile", "kind": "request",
             "require": "role", "roles": ["grid-operator"]},
            {"direction": "incoming", "action": "Reset", "kind": "request",
             "require": "any_trusted", "authorize": True},
            {"direction": "outgoing", "kind": "response", "sign_with": ["station"]},
        ]}],
        "roles": [{**GRID_ROLE, "keys": [grid.key_id]}],
    }
    return SecurityContext(trust=trust, signing_keys={"station": station},
                           policies=PolicySet.from_config(config),
                           roles=RoleSet.from_config(config))


def grid_security(station: KeyPair) -> SecurityContext:
    """The grid operator checks that answers to its commands come from the station."""
    trust = TrustStore()
    trust.add(station.public_key)
    config = {"policies": [{"id": "grid", "rules": [
        {"direction": "incoming", "action": "*", "kind": "response", "require": "all_listed",
         "keys": [station.key_id]}]}]}
    return SecurityContext(trust=trust, policies=PolicySet.from_config(config))


class Net:
    """The running topology and the hooks the tests turn on."""

    def __init__(self, app: CsmsApp, csms: OverlayCsmsServer, node_b: Node, node_a: Node,
                 station: SimulatedStation, grid: Participant) -> None:
        self.app, self.csms, self.node_b, self.node_a = app, csms, node_b, node_a
        self.station, self.grid = station, grid
        self.tamper = False
        self.to_station: list[Call] = []  # SetChargingProfiles NODE-A wrote to the station
        node_b.router.guards.append(self._malicious)
        node_a.router.observers.append(self._watch)

    def _malicious(self, call: Call, version: str) -> None:
        """NODE-B gone bad: raise every limit it forwards (in place, as a node could)."""
        if self.tamper and call.action == "SetChargingProfile":
            for schedule in call.payload["chargingProfile"]["chargingSchedule"]:
                for period in schedule["chargingSchedulePeriod"]:
                    period["limit"] = 22000

    def _watch(self, event: FrameEvent) -> None:
        if event.direction == "out" and event.link_id.startswith("CS-1#") and \
                isinstance(event.frame, Call) and event.frame.action == "SetChargingProfile":
            self.to_station.append(event.frame)

    def limit_w(self) -> float | None:
        """The station's effective station-wide limit right now (None: unlimited)."""
        return self.station.model.profiles.station_limit_w(self.station.clock.now())


async def until(check: Callable[[], Any]) -> Any:
    async with asyncio.timeout(10):  # guards against a hang only
        while not (result := check()):  # noqa: ASYNC110 (polls the simulator's state)
            await asyncio.sleep(0.02)
        return result



@pytest.fixture(scope="module")
def keys() -> dict[str, KeyPair]:
    return {"grid": KeyPair.generate("secp256r1"), "station": KeyPair.generate("ed25519")}


@pytest.fixture
async def net(keys: dict[str, KeyPair]) -> AsyncIterator[Net]:
    async with contextlib.AsyncExitStack() as stack:
        app = await stack.enter_async_context(CsmsApp(CsmsConfig(store=":memory:", port=0)))
        csms = await serve_overlay_csms(app.handlers, node_id="CSMS-1",
                                        on_connect=app.on_connect,
                                        on_disconnect=app.on_disconnect)
        stack.push_async_callback(csms.close)
        node_b = overlay_node("NODE-B", "CSMS-1", csms.port)
        await node_b.start()
        stack.push_async_callback(stop_node, node_b)
        node_a = overlay_node("NODE-A", "NODE-B", node_b.port)
        await node_a.start()
        stack.push_async_callback(stop_node, node_a)
        station = SimulatedStation(
            "CS-1", f"ws://127.0.0.1:{node_a.port}/ocpp", version="2.0.1",
            config=StationConfig(evse_max_power_w=22_000),
            scenario=Scenario(auto=False, meter_interval_s=600, heartbeat_s=600),
            clock=SimClock(speed=1.0), backoff=Backoff(base=0.05, cap=0.2, jitter=0.05),
            call_timeout=5.0, security=station_security(keys["grid"], keys["station"]))
        task = asyncio.create_task(station.run())

        async def stop_station() -> None:
            await station.close()
            await asyncio.wait_for(task, 5)

        stack.push_async_callback(stop_station)
        grid = Participant(
            ParticipantSection(id="GRID-1", call_timeout=5.0, upstreams=(UpstreamSection(
                id="UPSTREAM", url=f"ws://127.0.0.1:{csms.port}/ocpp"),)),
            signer=CommandSigner(keys["grid"]), security=grid_security(keys["station"]))
        await stack.enter_async_context(grid)
        await until(lambda: station.accepted)
        yield Net(app, csms, node_b, node_a, station, grid)


def limit(net: Net, limit_w: float, **profile: Any) -> Awaitable[JsonObject]:
    """The grid operator's signed ChargingStationExternalConstraints limit for CS-1."""
    return net.grid.call("CS-1", "SetChargingProfile", external_limit_profile(limit_w, **profile))


async def refused(send: Awaitable[Any]) -> CallErrorReceived:
    with pytest.raises(CallErrorReceived) as info:
        await send
    assert info.value.code == "SecurityError"
    return info.value


async def test_signed_limit_crosses_csms_and_two_nodes_and_is_applied(net: Net) -> None:
    assert net.limit_w() is None
    response = await limit(net, 6000, profile_id=41)
    assert response["status"] == "Accepted"
    assert len(response["signatures"]) == 1  # the station signed its answer; GRID-1 checked it
    assert net.limit_w() == 6000
    [(_, _, sent)] = net.grid.sent
    [arrived] = net.to_station
    assert arrived.payload == sent  # byte-for-byte is not needed, value-for-value is
    assert net.app.core.paths["CS-1"] == ("CS-1", "NODE-A", "NODE-B")  # the real path

    raised = await limit(net, 11000, profile_id=41)
    assert raised["status"] == "Accepted" and net.limit_w() == 11000


async def test_a_node_that_modifies_the_command_is_caught_by_the_station(net: Net) -> None:
    net.tamper = True
    error = await refused(limit(net, 5000))
    assert "invalid signature" in error.description
    [arrived] = net.to_station
    assert arrived.payload["chargingProfile"]["chargingSchedule"][0][
        "chargingSchedulePeriod"][0]["limit"] == 22000  # it did reach the station, altered
    assert net.limit_w() is None


async def test_commands_outside_the_role_are_refused(net: Net) -> None:
    low = await refused(limit(net, 3000))
    assert "violates ge 4200" in low.description
    amps = external_limit_profile(32)
    amps["chargingProfile"]["chargingSchedule"][0]["chargingRateUnit"] = "A"
    in_amps = await refused(net.grid.call("CS-1", "SetChargingProfile", amps))
    assert "chargingRateUnit: 'A' violates eq 'W'" in in_amps.description
    reset = await refused(net.grid.call("CS-1", "Reset", {"type": "Immediate"}))
    assert "Reset is not allowed for role(s) grid-operator" in reset.description
    assert net.limit_w() is None and net.station.reset_pending is None


async def test_a_replayed_command_is_refused(net: Net) -> None:
    assert (await limit(net, 7000))["status"] == "Accepted"
    [(_, action, signed)] = net.grid.sent
    error = await refused(net.grid.call_signed("CS-1", action, signed))
    assert "replayed" in error.description


async def test_unsigned_command_from_the_csms_is_refused(net: Net) -> None:
    error = await refused(net.app.set_charging_profile(
        "CS-1", 0, external_limit_profile(6000)["chargingProfile"]))
    assert "requires a signature by role grid-operator" in error.description
    assert net.limit_w() is None


async def test_the_csms_can_carry_the_grid_operators_signed_payload(
    net: Net, keys: dict[str, KeyPair]
) -> None:
    signed = net.grid.sign("SetChargingProfile", external_limit_profile(4200, profile_id=9))
    response = await net.app.call("CS-1", "SetChargingProfile", signed)
    assert response["status"] == "Accepted" and net.limit_w() == 4200


async def test_a_node_can_refuse_what_no_role_allows_before_the_station(
    net: Net, keys: dict[str, KeyPair]
) -> None:
    node_view = station_security(keys["grid"], keys["station"])
    guard = signature_guard(node_view, actions={"SetChargingProfile", "Reset"},
                            node_id="NODE-A")
    net.node_a.router.guards.append(guard)
    error = await refused(limit(net, 1000))
    assert error.description.startswith("refused at node NODE-A:")
    assert "violates ge 4200" in error.description
    assert net.to_station == [] and guard.refused == 1
    assert (await limit(net, 8000))["status"] == "Accepted"
    assert net.limit_w() == 8000 and guard.checked == 2
