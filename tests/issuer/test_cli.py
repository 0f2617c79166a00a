"""``ocppnet tariff publish`` as a user runs it (a subprocess) against a CSMS and a 2.1 station
on loopback: the station applies the signed tariff, refuses an untrusted issuer's, and a bad
tariff file is one line naming the field."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from ocppnet.cli.main import main
from ocppnet.csms.app import CsmsApp
from ocppnet.csms.config import CsmsConfig
from ocppnet.node.overlay_csms import serve_overlay_csms
from ocppnet.security.context import SecurityContext
from ocppnet.security.keystore import KeyStore
from ocppnet.security.roles import RoleSet
from ocppnet.security.trust import TrustStore
from ocppnet.station.clock import SimClock
from ocppnet.station.runtime import SimulatedStation
from ocppnet.station.scenario import Scenario
from ocppnet.transport import Backoff

EXAMPLES = Path(__file__).parents[2] / "examples"


async def run(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ocppnet.cli.main", "--log-level", "WARNING", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def issuer_toml(tmp: Path, port: int, key: str) -> Path:
    path = tmp / f"{key}.toml"
    path.write_text(f"""
[participant]
id = "EMP-1"
version = "2.1"
call_timeout = 10
[[participant.upstreams]]
id = "CSMS-1"
url = "ws://127.0.0.1:{port}/ocpp"
[security]
keystore = "keys"
[tariff]
signing_key = "{key}"
issuer_name = "EMP-1"
""")
    return path


@pytest.fixture
async def station(tmp_path: Path) -> AsyncIterator[tuple[SimulatedStation, int]]:
    store = KeyStore(tmp_path / "keys")
    emp = store.new("emp", "ed25519")
    store.new("rogue", "secp256r1")
    trust = TrustStore()
    trust.add(store.public_key("emp"))
    roles = RoleSet.from_config({"roles": [{"name": "tariff-issuer", "keys": [emp.key_id],
                                            "allow": [{"action": "SetDefaultTariff"}]}]})
    async with contextlib.AsyncExitStack() as stack:
        app = await stack.enter_async_context(CsmsApp(CsmsConfig(store=":memory:", port=0)))
        csms = await serve_overlay_csms(app.handlers, node_id="CSMS-1",
                                        on_connect=app.on_connect,
                                        on_disconnect=app.on_disconnect)
        stack.push_async_callback(csms.close)
        cs = SimulatedStation(
            "CS-1", f"ws://127.0.0.1:{csms.port}/ocpp", version="2.1",
            scenario=Scenario(auto=False, heartbeat_s=3600), clock=SimClock(),
            backoff=Backoff(base=0.05, cap=0.2, jitter=0.05), call_timeout=5.0,
            security=SecurityContext(trust=trust, roles=roles))
        task = asyncio.create_task(cs.run())

        async def stop() -> None:
            await cs.close()
            await asyncio.wait_for(task, 5)

        stack.push_async_callback(stop)
        async with asyncio.timeout(10):
            while not cs.accepted:  # noqa: ASYNC110 (polls the simulator's state)
                await asyncio.sleep(0.02)
        yield cs, csms.port


async def test_publish_applies_the_example_tariff_and_refuses_an_untrusted_key(
    tmp_path: Path, station: tuple[SimulatedStation, int]
) -> None:
    cs, port = station
    tariff = str(EXAMPLES / "tariff.json")
    code, out, err = await run("tariff", "publish", "--config",
                               str(issuer_toml(tmp_path, port, "emp")), "--tariff", tariff,
                               "--target", "CS-1")
    assert code == 0, err
    assert "SetDefaultTariff EMP-1-2026-12" in out and out.strip().endswith("CS-1: Accepted")
    held = cs.tariffs.book.default_for(1, datetime.now(UTC))
    assert held is not None and held.tariff_id == "EMP-1-2026-12"
    assert held.verified.issuer == "EMP-1"

    code, out, err = await run("tariff", "publish", "--config",
                               str(issuer_toml(tmp_path, port, "rogue")), "--tariff", tariff,
                               "--target", "CS-1")
    assert code == 2
    assert err.strip().splitlines() == [
        "ocppnet tariff: tariff EMP-1-2026-12: not signed by a trusted issuer"]


def test_sign_writes_a_signed_tariff_and_bad_files_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """In-process (``main(argv)``, what the console script runs): no network needed."""
    KeyStore(tmp_path / "keys").new("emp", "ed25519")
    config = str(issuer_toml(tmp_path, 9, "emp"))
    out_file = tmp_path / "signed.json"
    assert main(["tariff", "sign", "--config", config, "--tariff",
                 str(EXAMPLES / "tariff.json"), "--out", str(out_file)]) == 0
    assert capsys.readouterr().out.startswith("signed EMP-1-2026-12 (sha256 ")
    signed = orjson.loads(out_file.read_bytes())
    assert signed["customData"]["signatures"][0]["name"] == "EMP-1"
    bad = tmp_path / "bad.json"
    bad.write_text('{"tariffId": "X", "currency": "EUR", "energy": {"prices": [{}]}}')
    assert main(["tariff", "publish", "--config", config, "--tariff", str(bad),
                 "--target", "CS-1"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"ocppnet tariff: {bad}: tariff.energy.prices[0].priceKwh: required"]
