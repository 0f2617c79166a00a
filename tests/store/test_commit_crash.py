"""Group commit never acknowledges what it has not stored: a CSMS (``ocppnet csms``, SQLite
file store) SIGKILLed while stations stream TransactionEvents at it has, after the kill,
every event it answered in its database — the claim and the meter value — however the
batches fell. What it had not answered may or may not be there (the station would send it
again; the natural key keeps a repeat out)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ocppnet.errors import OcppNetError
from ocppnet.transport import connect_station
from tests.integration.processes import csms_process, write_csms_toml

STATIONS = 6
KILL_AFTER = 300  # acknowledged events (all stations) before the SIGKILL
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def event(seq: int) -> dict[str, Any]:
    at = (T0 + timedelta(seconds=seq)).isoformat()
    return {"eventType": "Started" if seq == 0 else "Updated", "timestamp": at, "seqNo": seq,
            "triggerReason": "Authorized" if seq == 0 else "MeterValuePeriodic",
            "transactionInfo": {"transactionId": "TX-1"}, "evse": {"id": 1, "connectorId": 1},
            "meterValue": [{"timestamp": at, "sampledValue": [
                {"value": 10.0 * seq, "unitOfMeasure": {"unit": "Wh"}}]}]}


async def stream(port: int, station: str, acked: list[tuple[str, int]],
                 enough: asyncio.Event) -> None:
    """Send TransactionEvents one after the other until the connection goes; ``enough``
    is set once ``KILL_AFTER`` events (of all stations) are answered."""
    with contextlib.suppress(OcppNetError, OSError):
        async with connect_station(f"ws://127.0.0.1:{port}/ocpp", station,
                                   backoff=None) as client:
            for seq in range(100_000):
                await client.call("TransactionEvent", event(seq))
                acked.append((station, seq))
                if len(acked) >= KILL_AFTER:
                    enough.set()


def stored(db: Path) -> tuple[set[tuple[str, int]], dict[tuple[str, int], int]]:
    """The claimed (station, seqNo) keys, and each station's meter values by seqNo."""
    with contextlib.closing(sqlite3.connect(db)) as conn:  # recovers the WAL left behind
        claims = {(station, int(key.split("/")[1])) for station, key in conn.execute(
            "SELECT station_id, natural_key FROM received_messages"
            " WHERE kind = 'TransactionEvent'")}
        values: dict[tuple[str, int], int] = {}
        for station, value in conn.execute("SELECT station_id, value FROM meter_values"):
            key = (station, round(value / 10))
            values[key] = values.get(key, 0) + 1
    return claims, values


async def test_sigkill_under_load_loses_no_acknowledged_event(tmp_path: Path) -> None:
    db = tmp_path / "csms.sqlite3"
    acked: list[tuple[str, int]] = []
    with csms_process(write_csms_toml(tmp_path, str(db))) as csms:
        enough = asyncio.Event()
        tasks = [asyncio.create_task(stream(csms.ws_port, f"CS-{i}", acked, enough))
                 for i in range(STATIONS)]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(enough.wait(), 60)  # only guards against a hang
        csms.process.kill()  # mid-stream: every station has a call in flight
        await asyncio.gather(*tasks)  # answers already on the wire are still read
    assert len(acked) >= KILL_AFTER, "the CSMS did not answer enough events before the kill"
    claims, values = stored(db)
    missing = [key for key in acked if key not in claims]
    assert not missing, f"acknowledged but not stored: {missing[:10]}"
    assert all(values.get(key) == 1 for key in acked)  # its meter value, exactly once
    assert len(claims) >= len(acked)  # more only if commits beat their answers to the wire
