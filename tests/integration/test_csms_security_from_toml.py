"""``ocppnet csms --config csms.toml`` (a real subprocess) enforces its ``[security]``: a
station that signs its BootNotification with the key the CSMS trusts is accepted, one that
does not sign is refused with SecurityError (and keeps retrying, never accepted)."""

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

from ocppnet.security.context import SecurityContext
from ocppnet.security.keystore import KeyStore
from ocppnet.security.policy import PolicySet
from ocppnet.security.trust import TrustStore
from ocppnet.station.clock import SimClock
from ocppnet.station.runtime import SimulatedStation
from ocppnet.station.scenario import Scenario
from ocppnet.transport import Backoff

OCPPNET = [sys.executable, "-m", "ocppnet.cli.main"]

CSMS_TOML = """
[csms]
port = 0
store = ":memory:"

[security]
trust = ["station.pub.pem"]
policy_file = "policy.toml"
"""

POLICY_TOML = """
[[policies]]
id = "csms"
[[policies.rules]]
direction = "incoming"
action = "BootNotification"
kind = "request"
require = "all_listed"
keys = ["{kid}"]
"""


@contextlib.asynccontextmanager
async def csms_process(config: Path) -> AsyncIterator[str]:
    proc = await asyncio.create_subprocess_exec(
        *OCPPNET, "csms", "--config", str(config), "--no-dashboard", stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stderr is not None
        async with asyncio.timeout(60):  # guards against a hang only
            while line := (await proc.stderr.readline()).decode():
                found = re.search(r"(ws://127\.0\.0\.1:\d+/ocpp)/<id>", line)
                if found:
                    break
            else:
                raise AssertionError("the CSMS stopped before listening")
        yield found[1]
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()


def station(station_id: str, url: str, security: SecurityContext | None) -> SimulatedStation:
    return SimulatedStation(
        station_id, url, version="2.0.1",
        scenario=Scenario(auto=False, meter_interval_s=600, heartbeat_s=600),
        clock=SimClock(speed=1.0), backoff=Backoff(base=0.05, cap=0.2, jitter=0.05),
        call_timeout=20.0, security=security)


async def test_the_csms_enforces_its_security_table(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys")
    info = store.new("station", "secp256r1")
    (tmp_path / "station.pub.pem").write_bytes(store.public_pem("station"))
    (tmp_path / "policy.toml").write_text(POLICY_TOML.format(kid=info.key_id))
    (tmp_path / "csms.toml").write_text(CSMS_TOML)
    signs = SecurityContext(
        trust=TrustStore(), signing_keys={"station": store.key_pair("station")},
        policies=PolicySet.from_config({"policies": [{"id": "s", "rules": [
            {"direction": "outgoing", "action": "BootNotification", "sign_with": ["station"]},
        ]}]}))
    async with contextlib.AsyncExitStack() as stack:
        url = await stack.enter_async_context(csms_process(tmp_path / "csms.toml"))
        good, bad = station("CS-GOOD", url, signs), station("CS-BAD", url, None)
        tasks = [asyncio.create_task(s.run()) for s in (good, bad)]

        async def stop() -> None:
            for s in (good, bad):
                await s.close()
            await asyncio.wait_for(asyncio.gather(*tasks), 5)

        stack.push_async_callback(stop)
        async with asyncio.timeout(60):  # guards against a hang only
            while not (good.accepted and bad.stats.errors >= 1):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        assert good.accepted and not bad.accepted
        assert good.stats.errors == 0
