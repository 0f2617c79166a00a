"""A node whose store-and-forward queue sits on a small filesystem that fills up: it refuses
what it cannot keep (InternalError, which the station retries), never acknowledges it, and
keeps queueing once there is room again; what it acknowledged reaches the CSMS.

The test mounts a 512 KiB tmpfs (and unmounts it); where mounting is not permitted it skips
and says so."""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ocppnet.csms.app import CsmsApp
from ocppnet.csms.config import CsmsConfig
from ocppnet.errors import CallErrorReceived
from ocppnet.transport import connect_station
from tests.faults.test_links import node, until


@contextlib.contextmanager
def small_filesystem(size: str = "512k") -> Iterator[Path]:
    mount = Path(tempfile.mkdtemp(prefix="ocppnet-tmpfs-"))
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        mount.rmdir()
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode}): "
                    "the disk-full test needs CAP_SYS_ADMIN")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)
        mount.rmdir()


def fill(directory: Path, leave: int) -> Path:
    """A file taking all but ``leave`` bytes of the filesystem."""
    stats = os.statvfs(directory)
    free = stats.f_bavail * stats.f_frsize
    filler = directory / "filler"
    with open(filler, "wb") as handle, contextlib.suppress(OSError):
        handle.write(b"\0" * max(0, free - leave))
    return filler


def event(seq: int) -> dict[str, Any]:
    at = datetime(2026, 12, 1, tzinfo=UTC) + timedelta(seconds=seq)
    return {"eventType": "Started" if seq == 0 else "Updated",
            "timestamp": at.isoformat().replace("+00:00", "Z"),
            "triggerReason": "MeterValuePeriodic",
            "seqNo": seq, "transactionInfo": {"transactionId": "TX-DISK"},
            "evse": {"id": 1, "connectorId": 1},
            "meterValue": [{"timestamp": at.isoformat().replace("+00:00", "Z"),
                            "sampledValue": [{"value": 10.0 * seq}]}]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_full_disk_refuses_instead_of_acknowledging_and_recovers(
        tmp_path: Path) -> None:
    port = free_port()  # the CSMS is not there yet: everything must be queued
    with small_filesystem() as disk:
        table = {"id": "NODE-A", "queue": str(disk / "queue.sqlite3"), "upstreams": [
            {"id": "CSMS-1", "url": f"ws://127.0.0.1:{port}/ocpp", "mode": "overlay"}]}
        async with node(table) as n:
            acked, refused = [], []
            async with connect_station(f"ws://127.0.0.1:{n.port}/ocpp", "CS-1",
                                       backoff=None) as station:
                for seq in range(5):
                    assert await station.call("TransactionEvent", event(seq)) == {}
                    acked.append(seq)
                filler = fill(disk, leave=8_192)
                seq = 5
                while not refused and seq < 400:
                    try:
                        await station.call("TransactionEvent", event(seq))
                        acked.append(seq)
                    except CallErrorReceived as exc:
                        assert exc.code == "InternalError"
                        assert "queue is unavailable" in exc.description
                        refused.append(seq)
                    seq += 1
                assert refused, "the disk never filled up"
                filler.unlink()  # room again: the refused event is sent again and kept
                assert await station.call("TransactionEvent", event(refused[0])) == {}
                acked.append(refused[0])
                for more in range(seq, seq + 3):
                    assert await station.call("TransactionEvent", event(more)) == {}
                    acked.append(more)
            assert n.snapshot()["counters"]["rejected"] >= 1
            db = tmp_path / "csms.sqlite3"
            async with CsmsApp(CsmsConfig(id="CSMS-1", store=str(db), port=port)) as app, \
                    _serving(app):
                await until(lambda: not any(n.snapshot()["queued"].values()), "the drain")
                with sqlite3.connect(db) as conn:
                    stored = sorted(int(k.rpartition("/")[2]) for (k,) in conn.execute(
                        "SELECT natural_key FROM received_messages"))
    assert stored == sorted(acked)  # everything acknowledged arrived, once


@contextlib.asynccontextmanager
async def _serving(app: CsmsApp) -> AsyncIterator[None]:
    server = await app.serve()
    try:
        yield
    finally:
        await server.close()
