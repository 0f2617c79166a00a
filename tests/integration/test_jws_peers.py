"""OCPP 2.1 signed messages sent by our own processes (``[security] jws = "send"``):

* a station simulator boots with ``BootNotification-Signed``; the CSMS (secured, JWS accepted)
  verifies it, runs its handler, logs the verdict and answers signed;
* a grid-operator participant sends ``SetChargingProfile-Signed`` through the CSMS to the
  station, whose policy and role constraints apply to the JWS exactly as to our form.

    CS-1 (2.1, jws=send) ── CSMS-1 (CsmsApp, secured) ── GRID-1 (Participant, jws=send)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ocppnet.csms.app import CsmsApp
from ocppnet.csms.config import CsmsConfig
from ocppnet.errors import CallErrorReceived
from ocppnet.node.overlay_csms import OverlayCsmsServer, serve_overlay_csms
from ocppnet.participant import Participant, ParticipantSection, UpstreamSection
from ocppnet.rpc.frames import Call
from ocppnet.security.context import SecurityContext
from ocppnet.security.keys import KeyPair
from ocppnet.security.policy import PolicySet
from ocppnet.security.roles import RoleSet
from ocppnet.security.signer import external_limit_profile
from ocppnet.security.trust import TrustStore
from ocppnet.station.clock import SimClock
from ocppnet.station.runtime import SimulatedStation
from ocppnet.station.scenario import Scenario
from ocppnet.transport import Backoff
from ocppnet.transport.secured import record_verdicts, secure_handlers

STATION, CSMS, GRID = (KeyPair.generate("secp256r1") for _ in range(3))


def ctx(keys: dict[str, KeyPair], trusted: list[KeyPair], config: dict[str, Any]) -> Any:
    trust = TrustStore()
    for pair in trusted:
        trust.add(pair.public_key)
    return SecurityContext(trust=trust, signing_keys=keys, jws="send",
                           policies=PolicySet.from_config(config),
                           roles=RoleSet.from_config(config))


STATION_RULES = {
    "policies": [{"id": "station", "rules": [
        {"direction": "incoming", "action": "SetChargingProfile", "kind": "request",
         "require": "role", "roles": ["grid-operator"]}]}],
    "roles": [{"name": "grid-operator", "keys": [GRID.key_id], "allow": [
        {"action": "SetChargingProfile", "constraints": [
            {"field": "chargingProfile.chargingSchedule[*].chargingSchedulePeriod[*].limit",
             "op": "ge", "value": 4200}]}]}],
}
CSMS_RULES = {"policies": [{"id": "csms", "rules": [
    {"direction": "incoming", "action": "BootNotification", "kind": "request",
     "require": "all_listed", "keys": [STATION.key_id]}]}]}


class Net:
    def __init__(self, app: CsmsApp, csms: OverlayCsmsServer, station: SimulatedStation,
                 grid: Participant) -> None:
        self.app, self.csms, self.station, self.grid = app, csms, station, grid
        self.actions: list[str] = []
        csms.router.observers.append(
            lambda e: self.actions.append(e.frame.action) if isinstance(e.frame, Call) else None)


@pytest.fixture
async def net() -> AsyncIterator[Net]:
    async with contextlib.AsyncExitStack() as stack:
        app = await stack.enter_async_context(CsmsApp(CsmsConfig(store=":memory:", port=0)))
        secured = secure_handlers(app.handlers, ctx({"csms": CSMS}, [STATION], CSMS_RULES),
                                  on_verdict=record_verdicts(app, refused_only=True))
        csms = await serve_overlay_csms(secured, node_id="CSMS-1", on_connect=app.on_connect,
                                        on_disconnect=app.on_disconnect)
        stack.push_async_callback(csms.close)
        station = SimulatedStation(
            "CS-1", f"ws://127.0.0.1:{csms.port}/ocpp", version="2.1",
            scenario=Scenario(auto=False, meter_interval_s=600, heartbeat_s=600),
            clock=SimClock(speed=1.0), backoff=Backoff(base=0.05, cap=0.2, jitter=0.05),
            call_timeout=5.0,
            security=ctx({"station": STATION}, [CSMS, GRID], STATION_RULES))
        task = asyncio.create_task(station.run())

        async def stop_station() -> None:
            await station.close()
            await asyncio.wait_for(task, 5)

        stack.push_async_callback(stop_station)
        grid = Participant(
            ParticipantSection(id="GRID-1", version="2.1", call_timeout=5.0, upstreams=(
                UpstreamSection(id="UP", url=f"ws://127.0.0.1:{csms.port}/ocpp"),)),
            security=ctx({"grid": GRID}, [STATION], {}))
        await stack.enter_async_context(grid)
        async with asyncio.timeout(10):
            while not station.accepted:  # noqa: ASYNC110 (polls the simulator's state)
                await asyncio.sleep(0.02)
        yield Net(app, csms, station, grid)


async def test_station_boots_with_a_jws_and_the_csms_logs_the_verdict(net: Net) -> None:
    await net.app.store.flush()
    entries = await net.app.store.list_messages("CS-1", limit=50)
    boots = [e for e in entries if e.action == "BootNotification" and e.direction == "in"]
    assert boots and boots[0].signature == "valid"  # verified as a JWS, logged unwrapped
    assert net.station.stats.errors == 0


async def test_grid_operator_sends_the_spec_form_and_roles_apply(net: Net) -> None:
    answer = await net.grid.call("CS-1", "SetChargingProfile", external_limit_profile(6000))
    assert answer == {"status": "Accepted"}  # the encapsulated, verified reply
    assert "SetChargingProfile-Signed" in net.actions
    assert net.station.model.profiles.station_limit_w(net.station.clock.now()) == 6000
    with pytest.raises(CallErrorReceived) as refused:
        await net.grid.call("CS-1", "SetChargingProfile", external_limit_profile(1000))
    assert refused.value.code == "SecurityError"
    assert "violates ge 4200" in refused.value.description
