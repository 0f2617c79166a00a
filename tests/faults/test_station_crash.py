"""A station process killed while its CSMS is away loses nothing: ``ocppnet station
--queue-file`` keeps the offline queue on disk, and after both come back every queued
transaction message is stored once (the 1,000-station run lost 32 starts this way before).

Real processes: ``ocppnet csms`` and ``ocppnet station``, both SIGKILLed."""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from tests.integration.processes import csms_process, started, write_csms_toml


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:  # not created yet
        return []


def wait(check: Callable[[], bool], what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit  # guards against a hang only
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def station_args(port: int, queue: Path) -> list[str]:
    return ["station", "--url", f"ws://127.0.0.1:{port}/ocpp", "--count", "3",
            "--id", "CS-{:02d}", "--speed", "60", "--idle", "5", "--session", "600",
            "--meter-interval", "10", "--rate", "100", "--queue-file", str(queue)]


def test_a_killed_station_process_delivers_its_queue_after_restart(tmp_path: Path) -> None:
    port = free_port()
    db, queue = tmp_path / "csms.sqlite3", tmp_path / "queue.sqlite3"
    config = write_csms_toml(tmp_path, str(db), port=port)
    with csms_process(config) as csms, started(*station_args(port, queue)) as stations:
        wait(lambda: len(rows(db, "SELECT 1 FROM transactions")) >= 3, "three transactions")
        csms.process.kill()  # the CSMS is gone: the stations queue what they produce
        wait(lambda: len(rows(queue, "SELECT 1 FROM offline_queue")) >= 12,
             "a dozen queued transaction messages")
        stations.kill()  # and then the station process dies too
    queued = rows(queue, "SELECT station, action, payload FROM offline_queue")
    events = [(s, json.loads(str(p))) for s, a, p in queued if a == "TransactionEvent"]
    assert len(events) >= 12
    with csms_process(config), started(*station_args(port, queue)):
        wait(lambda: not rows(queue, "SELECT 1 FROM offline_queue"), "the queue drained")
        stored = {(str(s), str(k)) for s, k in rows(
            db, "SELECT station_id, natural_key FROM received_messages "
                "WHERE kind = 'TransactionEvent'")}
    missing = [(s, e["transactionInfo"]["transactionId"], e["seqNo"]) for s, e in events
               if (s, f"{e['transactionInfo']['transactionId']}/{e['seqNo']}") not in stored]
    assert missing == [], f"{len(missing)} of {len(events)} queued events were lost"
    per_seq = rows(db, "SELECT COUNT(*), COUNT(DISTINCT station_id || natural_key) "
                       "FROM received_messages")
    assert per_seq[0][0] == per_seq[0][1]  # and none stored twice
