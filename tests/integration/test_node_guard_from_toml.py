"""``ocppnet node run`` (a real subprocess) configured from TOML only refuses a role's
overreach: the grid operator's 1 kW limit never reaches the station behind the node, its
6 kW limit does. The station itself enforces nothing here, so only the node can refuse.

    GRID-1 (Participant) ── CSMS-1 (in this process) ── NODE-T (subprocess) ── CS-1
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ocppnet.csms.app import CsmsApp
from ocppnet.csms.config import CsmsConfig
from ocppnet.errors import CallErrorReceived
from ocppnet.node.overlay_csms import serve_overlay_csms
from ocppnet.participant import Participant, ParticipantSection, UpstreamSection
from ocppnet.security.keystore import KeyStore
from ocppnet.security.signer import CommandSigner, external_limit_profile
from ocppnet.station.clock import SimClock
from ocppnet.station.model import StationConfig
from ocppnet.station.runtime import SimulatedStation
from ocppnet.station.scenario import Scenario
from ocppnet.transport import Backoff

OCPPNET = [sys.executable, "-m", "ocppnet.cli.main"]

NODE_TOML = """
[node]
id = "NODE-T"
port = 0

[[node.upstreams]]
id = "CSMS-1"
url = "ws://127.0.0.1:{port}/ocpp"
mode = "overlay"

[security]
trust = ["grid.pub.pem"]
policy_file = "guard.toml"
"""

GUARD_TOML = """
[[policies]]
id = "guard"
[[policies.rules]]
direction = "incoming"
action = "SetChargingProfile"
kind = "request"
require = "role"
roles = ["grid-operator"]

[[roles]]
name = "grid-operator"
keys = ["{kid}"]
[[roles.allow]]
action = "SetChargingProfile"
[[roles.allow.constraints]]
field = "chargingProfile.chargingSchedule[*].chargingSchedulePeriod[*].limit"
op = "ge"
value = 4200
"""


async def node_port(proc: asyncio.subprocess.Process) -> int:
    """The port from the node's start line (the timeout only guards against a hang)."""
    assert proc.stderr is not None
    async with asyncio.timeout(60):
        while line := (await proc.stderr.readline()).decode():
            found = re.search(r"listening on ws://127\.0\.0\.1:(\d+)/", line)
            if found:
                return int(found[1])
    raise AssertionError("the node stopped before listening")


@contextlib.asynccontextmanager
async def node_process(config: Path) -> AsyncIterator[int]:
    proc = await asyncio.create_subprocess_exec(
        *OCPPNET, "node", "run", "--config", str(config), stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        yield await node_port(proc)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def test_a_node_from_toml_refuses_the_overreach(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys")
    store.new("grid", "secp256r1")
    grid_key = store.key_pair("grid")
    (tmp_path / "grid.pub.pem").write_bytes(store.public_pem("grid"))
    (tmp_path / "guard.toml").write_text(GUARD_TOML.format(kid=grid_key.key_id))
    async with contextlib.AsyncExitStack() as stack:
        app = await stack.enter_async_context(CsmsApp(CsmsConfig(store=":memory:", port=0)))
        csms = await serve_overlay_csms(app.handlers, node_id="CSMS-1",
                                        on_connect=app.on_connect,
                                        on_disconnect=app.on_disconnect)
        stack.push_async_callback(csms.close)
        config = tmp_path / "node.toml"
        config.write_text(NODE_TOML.format(port=csms.port))
        port = await stack.enter_async_context(node_process(config))
        station = SimulatedStation(
            "CS-1", f"ws://127.0.0.1:{port}/ocpp", version="2.0.1",
            config=StationConfig(evse_max_power_w=22_000),
            scenario=Scenario(auto=False, meter_interval_s=600, heartbeat_s=600),
            clock=SimClock(speed=1.0), backoff=Backoff(base=0.05, cap=0.2, jitter=0.05),
            call_timeout=20.0)
        task = asyncio.create_task(station.run())

        async def stop_station() -> None:
            await station.close()
            await asyncio.wait_for(task, 5)

        stack.push_async_callback(stop_station)
        grid = Participant(
            ParticipantSection(id="GRID-1", call_timeout=20.0, upstreams=(UpstreamSection(
                id="UPSTREAM", url=f"ws://127.0.0.1:{csms.port}/ocpp"),)),
            signer=CommandSigner(grid_key))
        await stack.enter_async_context(grid)
        async with asyncio.timeout(60):  # guards against a hang only
            while not station.accepted:  # noqa: ASYNC110 (polls the simulator's state)
                await asyncio.sleep(0.05)

        with pytest.raises(CallErrorReceived) as refused:
            await grid.call("CS-1", "SetChargingProfile", external_limit_profile(1000))
        assert refused.value.code == "SecurityError"
        assert refused.value.description.startswith("refused at node NODE-T:")
        assert "violates ge 4200" in refused.value.description
        now = station.clock.now()
        assert station.model.profiles.station_limit_w(now) is None  # never reached CS-1

        accepted = await grid.call("CS-1", "SetChargingProfile", external_limit_profile(6000))
        assert accepted["status"] == "Accepted"
        assert station.model.profiles.station_limit_w(station.clock.now()) == 6000
