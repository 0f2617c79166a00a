"""Connections: memory per idle station held by one server (RSS delta / connections).

The server runs in its own process; idle stations come from several client processes (each
holds at most ``PER_PROCESS`` connections, so no process runs out of file descriptors). Each
station completes the handshake and one Heartbeat, then stays idle. RSS is read from
/proc/<pid>/status after a warm-up group of stations (imports, caches, first allocations) and
again after the measured group; the difference divided by the group size is the cost of one
connection. The floor is the same measurement on a bare websockets server.
"""

from __future__ import annotations

import time

from benchmarks.processes import idle_clients, peer, rss_bytes
from benchmarks.report import Row, Target

TARGET = Target("max_value", 20.0)
PER_PROCESS = 2500
WARMUP = 100


def chunks(total: int, size: int) -> list[int]:
    return [min(size, total - i) for i in range(0, total, size)]


def per_connection(kind: str, total: int, *args: str) -> tuple[float, int, int]:
    """(KiB per connection, RSS before, RSS after) for ``total`` idle stations on ``kind``."""
    with peer(kind, *args) as p, idle_clients(p.url, [WARMUP], "W"):
        time.sleep(0.5)
        before = rss_bytes(p.pid)
        with idle_clients(p.url, chunks(total, PER_PROCESS), "S") as connected:
            if sum(connected) != total:
                raise RuntimeError(f"only {sum(connected)} of {total} stations connected")
            time.sleep(1.0)
            after = rss_bytes(p.pid)
    return (after - before) / total / 1024, before, after


def run(quick: bool) -> list[Row]:
    total = 200 if quick else 10_000
    ours, before, after = per_connection("ours", total)
    floor, _, _ = per_connection("raw", total)
    return [Row(
        "connections", f"memory per idle station, {total:,} stations (serve_csms)", "KiB",
        ours, floor, "bare websockets", TARGET,
        note=f"server RSS {before / 2**20:.0f} -> {after / 2**20:.0f} MiB",
    )]
