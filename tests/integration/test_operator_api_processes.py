"""Done-when of the operator API, as a user runs it: ``ocppnet csms`` and ``ocppnet node run``
as processes, a station written with the ``ocpp`` package behind the node; Reset,
RequestStartTransaction and SetChargingProfile through ``ocppnet call`` and through the HTTP
API; each refusal gets its documented status and a message saying what was wrong."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from ocpp.routing import on
from ocpp.v201 import ChargePoint
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from websockets.asyncio.client import connect as ws_connect
from websockets.typing import Subprotocol

from ocppnet.cli.main import build_parser
from tests.integration.processes import (
    OCPPNET,
    OP_TOKEN,
    READ_TOKEN,
    csms_process,
    node_process,
    write_csms_toml,
    write_node_toml,
)

OP = {"Authorization": f"Bearer {OP_TOKEN}"}


class Station(ChargePoint):  # type: ignore[misc]
    """An OCPP 2.0.1 station of the ocpp package; remembers what it was asked to do."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.asked: list[tuple[str, dict[str, Any]]] = []

    @on("Reset")
    async def on_reset(self, type: str, **kwargs: Any) -> Any:
        self.asked.append(("Reset", {"type": type}))
        return result201.Reset(status="Accepted")

    @on("RequestStartTransaction")
    async def on_start(self, id_token: dict[str, Any], remote_start_id: int,
                       **kwargs: Any) -> Any:
        self.asked.append(("RequestStartTransaction", {"idToken": id_token}))
        return result201.RequestStartTransaction(status="Accepted")

    @on("SetChargingProfile")
    async def on_profile(self, evse_id: int, charging_profile: dict[str, Any],
                         **kwargs: Any) -> Any:
        self.asked.append(("SetChargingProfile", {"evseId": evse_id}))
        return result201.SetChargingProfile(status="Accepted")

    @on("TriggerMessage")
    async def on_trigger(self, requested_message: str, **kwargs: Any) -> Any:
        await asyncio.sleep(2)  # later than the call's timeout: the API's 504
        return result201.TriggerMessage(status="Accepted")


async def wait_upstream_up(node_http: str) -> None:
    async with httpx.AsyncClient(base_url=node_http) as http:
        for _ in range(200):
            snapshot = (await http.get("/api/v1/node")).json()
            if any(u.get("state") == "up" for u in snapshot["upstreams"]):
                return
            await asyncio.sleep(0.05)
    raise AssertionError(f"node upstream never came up: {snapshot}")


@contextlib.asynccontextmanager
async def ocpp_station(port: int) -> AsyncIterator[Station]:
    async with ws_connect(f"ws://127.0.0.1:{port}/ocpp/CS-1",
                          subprotocols=[Subprotocol("ocpp2.0.1")]) as ws:
        station = Station("CS-1", ws)
        reader = asyncio.create_task(station.start())
        try:
            boot = await station.call(call201.BootNotification(
                charging_station={"model": "Interop", "vendor_name": "mobilityhouse"},
                reason="PowerUp"))
            assert boot.status == "Accepted"
            yield station
        finally:
            reader.cancel()


async def ocppnet_call(csms: str, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``ocppnet call`` as its own process."""
    return await asyncio.to_thread(
        subprocess.run, [*OCPPNET, "call", "--csms", csms, "--token", token, *args],
        capture_output=True, text=True, timeout=60)


async def cli_call(csms: str, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The same command line through ``ocppnet``'s main() in this process (no interpreter
    start per call: a second each on this machine)."""
    argv = ["call", "--csms", csms, "--token", token, *args]

    def run() -> subprocess.CompletedProcess[str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = build_parser().parse_args(argv)
            code = args.func(args)  # main() without its logging set-up
        # only the command's own lines: other threads' log output lands in sys.stderr too
        said = [line for line in err.getvalue().splitlines() if line.startswith("ocppnet ")]
        return subprocess.CompletedProcess(argv, code, out.getvalue(), "\n".join(said))

    return await asyncio.to_thread(run)


PROFILE = {"id": 5, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
           "chargingProfileKind": "Relative", "chargingSchedule": [
               {"id": 1, "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400.0}]}]}


@pytest.mark.slow
async def test_operator_api_through_processes(tmp_path: Path) -> None:
    config = write_csms_toml(tmp_path, str(tmp_path / "csms.sqlite3"))
    with csms_process(config) as csms, node_process(
        write_node_toml(tmp_path, csms.ws_port)
    ) as node:
        await wait_upstream_up(node.http)
        async with ocpp_station(node.ws_port) as station:
            await check_calls(csms.http, station, tmp_path)
            await check_refusals(csms.http)
            await check_node_metrics(node.http)
            await check_csms_metrics(csms.http)


async def check_calls(base: str, station: Station, tmp_path: Path) -> None:
    # through `ocppnet call` (payload inline and from a file)
    done = await ocppnet_call(base, OP_TOKEN, "CS-1", "Reset", '{"type": "Immediate"}')
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"status": "Accepted"}
    (tmp_path / "start.json").write_text(json.dumps(
        {"idToken": {"idToken": "TAG-1", "type": "Central"}, "remoteStartId": 1}))
    started = await cli_call(base, OP_TOKEN, "CS-1", "RequestStartTransaction",
                                 f"@{tmp_path / 'start.json'}")
    assert json.loads(started.stdout) == {"status": "Accepted"}, started.stderr
    profile = await cli_call(base, OP_TOKEN, "CS-1", "SetChargingProfile",
                                 json.dumps({"evseId": 1, "chargingProfile": PROFILE}))
    assert json.loads(profile.stdout) == {"status": "Accepted"}, profile.stderr
    # through the HTTP API (the generic call and the helpers)
    async with httpx.AsyncClient(base_url=base) as http:
        reset = await http.post("/api/v1/stations/CS-1/reset", json={}, headers=OP)
        start = await http.post("/api/v1/stations/CS-1/remote-start",
                                json={"idToken": "TAG-2", "evseId": 1}, headers=OP)
        limit = await http.post("/api/v1/stations/CS-1/call", headers=OP, json={
            "action": "SetChargingProfile",
            "payload": {"evseId": 1, "chargingProfile": PROFILE}})
        assert [r.json() for r in (reset, start, limit)] == [{"status": "Accepted"}] * 3
        row = (await http.get("/api/v1/stations/CS-1",
                              headers={"Authorization": f"Bearer {READ_TOKEN}"})).json()
        assert row["path"] == ["CS-1", "NODE-A"] and row["ocppVersion"] == "2.0.1"
    assert [a for a, _ in station.asked] == [
        "Reset", "RequestStartTransaction", "SetChargingProfile"] * 2


async def check_refusals(base: str) -> None:
    wrong = await ocppnet_call(base, "not-a-token", "CS-1", "Reset", '{"type": "Immediate"}')
    assert (wrong.returncode, wrong.stderr.strip()) == (
        2, "ocppnet call: HTTP 401: unknown token")
    reader = await cli_call(base, READ_TOKEN, "CS-1", "Reset", '{"type": "Immediate"}')
    assert reader.returncode == 2 and "HTTP 403: token 'viewer' lacks scope 'operator'" in (
        reader.stderr)
    unknown = await cli_call(base, OP_TOKEN, "CS-9", "Reset", '{"type": "Immediate"}')
    assert unknown.stderr.strip() == "ocppnet call: HTTP 404: station CS-9 is not connected"
    invalid = await cli_call(base, OP_TOKEN, "CS-1", "Reset", '{"type": "Later"}')
    assert invalid.returncode == 2
    assert "HTTP 422: Reset is not valid for OCPP 2.0.1: payload.type" in invalid.stderr
    refused = await ocppnet_call(base, OP_TOKEN, "CS-1", "UnlockConnector",
                                 '{"evseId": 1, "connectorId": 1}')  # no handler: CALLERROR
    assert refused.returncode == 1, refused.stderr
    assert json.loads(refused.stdout)["errorCode"] == "NotImplemented"
    assert refused.stderr.startswith("ocppnet call: NotImplemented: station CS-1 answered")
    async with httpx.AsyncClient(base_url=base) as http:
        nobody = await http.post("/api/v1/stations/CS-1/call", json={"action": "Reset"})
        assert nobody.status_code == 401 and "no bearer token" in nobody.json()["detail"]
    # last: the ocpp package's station answers one message at a time, this one late
    late = await cli_call(base, OP_TOKEN, "--timeout", "0.5", "CS-1", "TriggerMessage",
                              '{"requestedMessage": "Heartbeat"}')
    assert (late.returncode, late.stderr.strip()) == (
        3, "ocppnet call: HTTP 504: station CS-1 did not answer TriggerMessage within 0.5s")


async def check_node_metrics(node_http: str) -> None:
    async with httpx.AsyncClient(base_url=node_http) as http:
        text = (await http.get("/metrics")).text
    for needle in ('ocppnet_connections{mode="standard",role="downstream",version="2.0.1"} 1.0',
                   'ocppnet_frames_total{action="Reset",direction="in",message_type="CALL"}',
                   'ocppnet_callerrors_total{code="NotImplemented",direction="in"} 1.0',
                   "ocppnet_forward_latency_seconds_count",
                   'ocppnet_store_forward_queue_depth',
                   "ocppnet_signature_verdicts_total", "ocppnet_replay_memory_entries"):
        assert needle in text, needle


async def check_csms_metrics(base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as http:
        assert (await http.get("/metrics")).status_code == 401
        text = (await http.get("/metrics",
                               headers={"Authorization": f"Bearer {READ_TOKEN}"})).text
    for needle in ('ocppnet_csms_messages_total{action="BootNotification",direction="in",'
                   'message_type="CALL"} 1.0',
                   'ocppnet_csms_stations_connected{version="2.0.1"} 1.0',
                   'ocppnet_connections{mode="overlay",role="downstream",version="2.0.1"} 1.0',
                   'ocppnet_signature_verdicts_total{status="unsigned"}'):
        assert needle in text, needle
