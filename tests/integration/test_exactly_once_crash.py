"""A node SIGKILLed mid-drain, and a CSMS SIGKILLed mid-drain (both restarted), leave exactly
one stored row per seqNo of 200 queued TransactionEvents: the node's store-and-forward
re-sends what it had not seen acknowledged (at-least-once), the CSMS's natural keys keep
the repeats out of the store (exactly-once)."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from ocppnet.transport import connect_station
from tests.integration.processes import (
    csms_process,
    node_process,
    write_csms_toml,
    write_node_toml,
)

EVENTS = 200
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def event(seq: int) -> dict[str, Any]:
    kind = "Started" if seq == 0 else "Ended" if seq == EVENTS - 1 else "Updated"
    at = (T0 + timedelta(seconds=seq)).isoformat()
    return {"eventType": kind, "timestamp": at, "seqNo": seq,
            "triggerReason": {"Started": "Authorized", "Updated": "MeterValuePeriodic",
                              "Ended": "EVDeparted"}[kind],
            "transactionInfo": {"transactionId": "TX-1"}, "evse": {"id": 1, "connectorId": 1},
            "meterValue": [{"timestamp": at, "sampledValue": [
                {"value": 10.0 * seq, "unitOfMeasure": {"unit": "Wh"}}]}]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stored(db: Path) -> int:
    """TransactionEvents the CSMS has committed so far (0 before its schema exists)."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            row = conn.execute("SELECT COUNT(*) FROM received_messages").fetchone()
            return int(row[0])
    except sqlite3.OperationalError:
        return 0


async def wait_for(predicate: Any, what: str, limit: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


async def queue_empty(node_http: str) -> bool:
    async with httpx.AsyncClient(base_url=node_http) as http:
        snapshot = (await http.get("/api/v1/node")).json()
    return not any(snapshot.get("queued", {}).values())


async def queue_200_events(node_port: int) -> None:
    """The station sends everything while the CSMS is away: the node acknowledges and
    queues each event on disk."""
    async with connect_station(f"ws://127.0.0.1:{node_port}/ocpp", "CS-1",
                               backoff=None) as station:
        for seq in range(EVENTS):
            assert await station.call("TransactionEvent", event(seq)) == {}


def check_store(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        per_seq = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT timestamp) FROM meter_values").fetchone()
        keys = conn.execute("SELECT COUNT(*) FROM received_messages").fetchone()[0]
        txs = conn.execute("SELECT state, energy_wh FROM transactions").fetchall()
    assert per_seq == (EVENTS, EVENTS)  # one row per seqNo, none twice
    assert keys == EVENTS
    assert txs == [("ended", 10.0 * (EVENTS - 1))]


async def settle(node_http: str, db: Path, *logs: list[str]) -> None:
    try:
        await wait_for(lambda: stored(db) == EVENTS, f"{EVENTS} events stored")
    except AssertionError:
        async with httpx.AsyncClient(base_url=node_http) as http:
            snapshot = (await http.get("/api/v1/node")).json()
        raise AssertionError(f"{stored(db)} of {EVENTS} stored; node: queued "
                             f"{snapshot.get('queued')}, upstreams {snapshot.get('upstreams')}, "
                             f"counters {snapshot.get('counters')}; logs: "
                             + "".join(line for lines in logs for line in lines
                                       if "logger=websockets" not in line
                                       and "event=queued " not in line)[-8000:]
                             ) from None
    for _ in range(400):
        if await queue_empty(node_http):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the node's queue never emptied")


async def queued_while_csms_down(tmp_path: Path, node_toml: Path) -> None:
    """A first node run queues the 200 events on disk (the CSMS is not there), then stops;
    the runs after it start with the CSMS up, so nobody waits for a reconnect back-off."""
    with node_process(node_toml) as first:
        await queue_200_events(first.ws_port)
        first.process.kill()


@pytest.mark.slow
async def test_node_sigkilled_mid_drain_stores_each_event_once(tmp_path: Path) -> None:
    db = tmp_path / "csms.sqlite3"
    csms_port = free_port()
    node_toml = write_node_toml(tmp_path, csms_port, queue=str(tmp_path / "queue.sqlite3"))
    await queued_while_csms_down(tmp_path, node_toml)
    with csms_process(write_csms_toml(tmp_path, str(db), port=csms_port)) as csms:
        with node_process(node_toml) as node:
            await wait_for(lambda: stored(db) >= 5, "the drain to start")
            node.process.kill()  # mid-drain: some sent, some maybe sent but not removed
        with node_process(node_toml) as again:
            await settle(again.http, db, again.process.lines, csms.process.lines)
    check_store(db)


@pytest.mark.slow
async def test_csms_sigkilled_mid_drain_stores_each_event_once(tmp_path: Path) -> None:
    db = tmp_path / "csms.sqlite3"
    csms_port = free_port()
    csms_toml = write_csms_toml(tmp_path, str(db), port=csms_port)
    node_toml = write_node_toml(tmp_path, csms_port, queue=str(tmp_path / "queue.sqlite3"))
    await queued_while_csms_down(tmp_path, node_toml)
    with csms_process(csms_toml) as csms, node_process(node_toml) as node:
        await wait_for(lambda: stored(db) >= 5, "the drain to start")
        csms.process.kill()  # mid-drain: maybe committed, not yet answered
        with csms_process(csms_toml) as restarted:
            await settle(node.http, db, node.process.lines, restarted.process.lines)
    check_store(db)
