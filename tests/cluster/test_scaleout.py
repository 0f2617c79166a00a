"""Issue 18's "Done when", with real processes: nats-server (JetStream), PostgreSQL, HAProxy,
three ``ocppnet csms --bus`` front-ends, an ``ocppnet node run`` whose upstream is HAProxy,
and 300 simulated stations in one subprocess (250 through HAProxy, of which 30 speak OCPP
1.6, where the CSMS assigns the transaction ids; 50 behind the node), each running a known
number of transactions.

While they charge: the operator API of front-end 1 reaches a station held by front-end 3
(found with ``GET /api/v1/cluster/stations/{id}``); a call in flight to front-end 2 fails
with a clear error when front-end 2 is SIGKILLed, not after the call's timeout; the stations
of front-end 2 come back on the others through HAProxy and their presence moves. At the end
PostgreSQL holds exactly the transactions and TransactionEvents the stations counted: nothing
lost, nothing stored twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cluster import processes
from tests.cluster.processes import ROOT, Cluster, Missing, Process
from tests.integration.processes import OP_TOKEN, READ_TOKEN, node_process, write_node_toml

DIRECT, V16, BEHIND_NODE, TRANSACTIONS = 220, 30, 50, 3
LEASE_S = 5.0  # a killed front-end leaves the live list once its lease has run out
DIRECT_IDS = [f"CS-{i:03d}" for i in range(1, DIRECT + 1)]
V16_IDS = [f"OS-{i:02d}" for i in range(1, V16 + 1)]
NODE_IDS = [f"NS-{i:02d}" for i in range(1, BEHIND_NODE + 1)]
READ = {"Authorization": f"Bearer {READ_TOKEN}"}
OPERATE = {"Authorization": f"Bearer {OP_TOKEN}"}
GET_VARIABLES = {"action": "GetVariables", "payload": {"getVariableData": [
    {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]}}

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Cluster]:
    if not processes.has_scaleout_core():
        pytest.skip("this ocppnet has no 'csms --bus' (the scale-out core of issue 18)")
    try:
        with processes.cluster(tmp_path, count=3, lease_s=LEASE_S) as cluster:
            yield cluster
    except Missing as exc:
        pytest.skip(str(exc))


@contextlib.contextmanager
def fleet(tmp_path: Path, direct_url: str, node_url: str) -> Iterator[tuple[Process, Path]]:
    out = tmp_path / "fleet.json"
    cmd = [sys.executable, "-m", "tests.cluster.fleet_run",
           "--group", f"{direct_url},CS-{{:03d}},{DIRECT}",
           "--group", f"{direct_url},OS-{{:02d}},{V16},1.6",
           "--group", f"{node_url},NS-{{:02d}},{BEHIND_NODE}",
           "--transactions", str(TRANSACTIONS), "--out", str(out)]
    with processes.running(cmd, cwd=ROOT) as process:
        yield process, out


async def holder(http: httpx.AsyncClient, station: str) -> str | None:
    """The front-end presence names for ``station`` (asked of front-end 1), None if absent."""
    reply = await http.get(f"/api/v1/cluster/stations/{station}")
    if reply.status_code == 404:
        return None
    reply.raise_for_status()
    return str(reply.json()["frontend"])


async def live_frontends(http: httpx.AsyncClient) -> set[str]:
    reply = await http.get("/api/v1/cluster/frontends")
    reply.raise_for_status()
    return {str(fe["id"]) for fe in reply.json()}


async def holders(http: httpx.AsyncClient, stations: list[str]) -> dict[str, str | None]:
    found = await asyncio.gather(*(holder(http, s) for s in stations))
    return dict(zip(stations, found, strict=True))


async def wait_until(what: str, check: Any, limit: float = 60.0) -> Any:
    """Poll ``await check()`` until it is truthy; ``limit`` only guards against a hang."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not (result := await check()):
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)
    return result


def stored(store: str) -> tuple[dict[str, int], dict[str, int], set[str]]:
    """(transactions per station, transaction messages claimed per station, states) in
    PostgreSQL."""
    import psycopg

    with psycopg.connect(store) as conn:
        txs = dict(conn.execute(
            "SELECT station_id, COUNT(*) FROM transactions GROUP BY station_id").fetchall())
        events = dict(conn.execute(
            "SELECT station_id, COUNT(*) FROM received_messages WHERE kind IN"
            " ('TransactionEvent', 'StartTransaction', 'StopTransaction', 'MeterValues')"
            " GROUP BY station_id").fetchall())
        states = {row[0] for row in conn.execute("SELECT DISTINCT state FROM transactions")}
    return txs, events, states


async def test_three_frontends_300_stations_one_killed_nothing_lost_nothing_twice(
    setup: Cluster, tmp_path: Path,
) -> None:
    fe1, fe2, _ = setup.frontends
    node_toml = write_node_toml(tmp_path, setup.proxy.port)
    with node_process(node_toml) as node, \
            fleet(tmp_path, setup.proxy.url, f"ws://127.0.0.1:{node.ws_port}/ocpp") as (run, out):
        run.read_until(r"event=fleet_booted", 90)
        async with httpx.AsyncClient(base_url=fe1.http, headers=READ, timeout=30) as http:
            async def all_live() -> bool:  # a lease renewal may be late on a busy machine
                return await live_frontends(http) == {"fe1", "fe2", "fe3"}

            await wait_until("the three front-ends' leases", all_live)
            everyone = DIRECT_IDS + V16_IDS + NODE_IDS
            where = await holders(http, everyone)
            assert set(where.values()) <= {"fe1", "fe2", "fe3"} and None not in where.values()
            assert sum(1 for f in where.values() if f == "fe2") > 0, where

            # the operator API on front-end 1 reaches a station held by front-end 3
            on_fe3 = next(s for s, f in where.items() if f == "fe3")
            reply = await http.post(f"/api/v1/stations/{on_fe3}/call", json=GET_VARIABLES,
                                    headers=OPERATE)
            assert reply.status_code == 200, reply.text
            assert reply.json()["getVariableResult"][0]["attributeStatus"] == "Accepted"

            # a call in flight to front-end 2 when it dies fails with a clear error
            victims = [s for s, f in where.items() if f == "fe2"]
            fe2.process.proc.send_signal(signal.SIGSTOP)  # it will never answer
            call = asyncio.create_task(http.post(
                f"/api/v1/stations/{victims[0]}/call", headers=OPERATE,
                json={**GET_VARIABLES, "timeout": 120}))
            await asyncio.sleep(0.5)
            fe2.kill()
            failed = await call  # httpx's 30 s timeout: a hang fails the test here
            assert failed.status_code in (502, 503, 404), failed.text
            assert failed.json()["error"] != "timeout", failed.text

            # its stations come back on the others; presence moves
            async def moved() -> bool:
                now = await holders(http, victims)
                return all(f in ("fe1", "fe3") for f in now.values())

            await wait_until("front-end 2's stations to be present on fe1/fe3", moved)

            async def lease_ran_out() -> bool:
                return await live_frontends(http) == {"fe1", "fe3"}

            await wait_until("front-end 2's lease to run out", lease_ran_out)

        run.read_until(r"event=fleet_done", 120)
    counted = json.loads(out.read_text())
    assert len(counted) == DIRECT + V16 + BEHIND_NODE
    for station, c in counted.items():
        assert c["started"] == c["ended"] == TRANSACTIONS, (station, c)
        assert c["tx_messages_queued"] == c["tx_messages_acknowledged"], (station, c)
    txs, events, states = stored(setup.store)
    assert txs == {s: TRANSACTIONS for s in counted}
    assert events == {s: c["tx_messages_acknowledged"] for s, c in counted.items()}
    assert states == {"ended"}
