"""Calibration law end to end: a meter's signature survives the whole path, or catches a change.

    CS-1 (SimulatedStation + SigningMeter) ── NODE-B ── NODE-A ── CSMS (CsmsApp + metering)
                                                          │
                     GET /api/v1/transactions/{id}/transparency ──> ocppnet ocmf verify

With NODE-A gone bad (a router guard that rewrites the end reading, signed value and
unsigned value alike, so only the signature can tell), the verifier says which record.
pyocmf (written by others) reads the same file and agrees.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import subprocess
import sys
import warnings
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pyocmf
import pytest

from ocppnet.api import api_app
from ocppnet.csms.app import CsmsApp
from ocppnet.csms.config import CsmsConfig
from ocppnet.csms.metering_api import metering_router
from ocppnet.csms.signed_meter import MeteringSection
from ocppnet.metering import MeterKey
from ocppnet.node.config import parse_config
from ocppnet.node.service import Node
from ocppnet.rpc.frames import Call
from ocppnet.station.clock import SimClock
from ocppnet.station.runtime import SimulatedStation
from ocppnet.station.scenario import Scenario
from ocppnet.station.signed_meter import MeterSigning, SigningMeter
from ocppnet.store import TransactionRecord
from ocppnet.transport import Backoff
from tests.integration import stop_node

FAST = Backoff(base=0.05, cap=0.2, jitter=0.05)


async def until(check: Callable[[], Any]) -> Any:
    async with asyncio.timeout(10):  # guards against a hang only
        while not (result := await check()):  # noqa: ASYNC110 (a store has no change event)
            await asyncio.sleep(0.02)
        return result


def _bump(text: str) -> str:
    """The end reading's energy register, one kWh more (same digits otherwise)."""
    head, _, rest = text.partition('"RV":')
    digits = rest[:rest.index(",")]
    whole, _, frac = digits.partition(".")
    return f'{head}"RV":{int(whole) + 1}{"." + frac if frac else ""}{rest[len(digits):]}'


class Tamperer:
    """NODE-A's guard: when armed, rewrites the signed end reading it forwards."""

    def __init__(self) -> None:
        self.armed = False
        self.done = 0

    def __call__(self, call: Call, version: str) -> None:
        if not self.armed:
            return
        payload = call.payload
        if call.action == "TransactionEvent" and payload.get("eventType") == "Ended":
            for mv in payload.get("meterValue", []):
                for sv in mv["sampledValue"]:
                    signed = sv.get("signedMeterValue")
                    if signed:
                        text = base64.b64decode(signed["signedMeterData"]).decode()
                        signed["signedMeterData"] = base64.b64encode(_bump(text).encode()).decode()
                        sv["value"] = sv["value"] + 1000.0
                        self.done += 1
        elif call.action == "StopTransaction":
            for mv in payload.get("transactionData", []):
                for sv in mv["sampledValue"]:
                    if sv.get("context") == "Transaction.End":
                        obj = json.loads(sv["value"])
                        text = base64.b64decode(obj["signedMeterData"]).decode()
                        obj["signedMeterData"] = base64.b64encode(_bump(text).encode()).decode()
                        sv["value"] = json.dumps(obj)
                        payload["meterStop"] += 1000
                        self.done += 1


class Net:
    def __init__(self, app: CsmsApp, station: SimulatedStation, tamperer: Tamperer,
                 web: httpx.AsyncClient) -> None:
        self.app, self.station, self.tamperer, self.web = app, station, tamperer, web


@contextlib.asynccontextmanager
async def network(tmp_path: Path, version: str) -> AsyncIterator[Net]:
    async with contextlib.AsyncExitStack() as stack:
        app = await stack.enter_async_context(CsmsApp(
            CsmsConfig(store=str(tmp_path / "csms.sqlite3"), port=0), metering=MeteringSection()))
        server = await app.serve(host="127.0.0.1", port=0)
        stack.push_async_callback(server.close)
        node_a = Node(parse_config({"node": {"id": "NODE-A", "upstreams": [
            {"id": "CSMS-1", "mode": "overlay", "url": f"ws://127.0.0.1:{server.port}/ocpp"}]}}))
        await node_a.start()
        stack.push_async_callback(stop_node, node_a)
        tamperer = Tamperer()
        node_a.router.guards.append(tamperer)
        node_b = Node(parse_config({"node": {"id": "NODE-B", "upstreams": [
            {"id": "NODE-A", "mode": "overlay", "url": f"ws://127.0.0.1:{node_a.port}/ocpp"}]}}))
        await node_b.start()
        stack.push_async_callback(stop_node, node_b)
        for node in (node_a, node_b):
            for up in node.upstreams.values():
                up.backoff = FAST
                await asyncio.wait_for(up.link_up.wait(), 10)
        station = SimulatedStation(
            "CS-1", f"ws://127.0.0.1:{node_b.port}/ocpp", version=version,
            scenario=Scenario(auto=False, meter_interval_s=60, heartbeat_s=600),
            clock=SimClock(speed=200.0), backoff=FAST, call_timeout=5.0,
            signing_meter=SigningMeter("CS-1", MeterKey.generate(), version, MeterSigning()))
        task = asyncio.create_task(station.run())

        async def stop_station() -> None:
            await station.close()
            await asyncio.wait_for(task, 5)

        stack.push_async_callback(stop_station)
        assert app.signed_meter is not None
        web = api_app("test", [metering_router(app.signed_meter)])
        client = await stack.enter_async_context(httpx.AsyncClient(
            transport=httpx.ASGITransport(app=web), base_url="http://csms"))
        await until(lambda: asyncio.sleep(0, station.accepted))
        yield Net(app, station, tamperer, client)


async def charge(net: Net) -> TransactionRecord:
    assert (await net.app.remote_start("CS-1", "TOKEN-1", evse_id=1))["status"] == "Accepted"
    [tx] = await until(lambda: net.app.store.list_transactions("CS-1"))
    await asyncio.sleep(0.1)  # 20 simulated seconds of charging
    assert (await net.app.remote_stop("CS-1", tx.transaction_id))["status"] == "Accepted"

    async def ended() -> TransactionRecord | None:
        done = await net.app.store.get_transaction("CS-1", tx.transaction_id)
        if done is None or done.state == "active":
            return None
        assert net.app.signed_meter is not None
        report = await net.app.signed_meter.report(done)
        return done if len(report.readings) >= 2 else None

    result: TransactionRecord = await until(ended)
    return result


def _pyocmf(path: Path) -> tuple[list[bool], bool]:
    """pyocmf's reading of the transparency file: signature per record, compliance."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        container = pyocmf.OcmfContainer.from_xml(path)
        valid = [bool(entry.verify_signature()) for entry in container]
        compliant = all(r.is_compliant for r in container.check_eichrecht(errors_only=True))
    return valid, compliant


def verify(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ocppnet.cli.main", "ocmf", "verify",
                           str(path)], capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
@pytest.mark.parametrize("tampered", [False, True], ids=["intact", "altered-at-node"])
async def test_station_to_transparency_file_through_two_nodes(
        tmp_path: Path, version: str, tampered: bool) -> None:
    async with network(tmp_path, version) as net:
        net.tamperer.armed = tampered
        tx = await charge(net)
        assert net.tamperer.done == (1 if tampered else 0)
        xml = await net.web.get(f"/api/v1/transactions/{tx.transaction_id}/transparency")
        assert xml.status_code == 200
        receipt = (await net.web.get(f"/api/v1/transactions/{tx.transaction_id}/receipt")).json()
    path = tmp_path / "transparency.xml"
    path.write_bytes(xml.content)
    result = verify(path)
    label = f"record 2 (transaction {tx.key}, Transaction.End)"
    theirs = _pyocmf(path)
    if not tampered:
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.count(": valid: signature valid (ECDSA-secp256r1-SHA256)") == 2
        assert f"transaction {tx.key}: ok:" in result.stdout
        assert theirs == ([True, True], True)  # pyocmf: both valid, Eichrecht-compliant pair
        assert receipt["verified"] is True and receipt["flags"] == []
        assert receipt["meterSerial"] == "CS-1-1"
    else:
        assert result.returncode == 1
        assert f"{label}: INVALID: signature does not match the payload" in result.stdout
        assert f"record 1 (transaction {tx.key}, Transaction.Begin): valid" in result.stdout
        assert theirs[0] == [True, False]  # pyocmf agrees on which record
        assert receipt["verified"] is False
        assert any("Transaction.End" in flag and "signature does not match" in flag
                   for flag in receipt["flags"])
