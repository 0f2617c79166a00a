"""Connections: memory per idle station held by one node (RSS delta / connections).

The holder (a node with one overlay upstream to a CSMS in a third process, or for comparison
our plain CSMS server and a bare websockets server) runs in its own process; idle stations
come from several client processes, each holding at most ``PER_PROCESS`` connections so that
no process runs out of file descriptors (the soft RLIMIT_NOFILE is raised to the hard limit
everywhere). Each station completes the handshake and one Heartbeat, then stays idle. RSS is
read from /proc/<pid>/status after a warm-up group of stations (imports, caches, first
allocations) and again after the measured group; the difference divided by the group size is
the cost of one connection.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from benchmarks.processes import Peer, idle_clients, peer, rss_bytes, uvloop_available
from benchmarks.report import Row, Target

TARGET = Target("max_value", 12.0)  # issue 19: <= 12 KiB per idle station
PER_PROCESS = 2500
WARMUP = 100


def chunks(total: int, size: int) -> list[int]:
    return [min(size, total - i) for i in range(0, total, size)]


@contextmanager
def holder(kind: str) -> Iterator[tuple[Peer, Peer | None]]:
    """(the process holding the stations, the CSMS behind it for a node)."""
    loop = "uvloop" if uvloop_available() else "asyncio"
    with ExitStack() as stack:
        if kind != "node":
            yield stack.enter_context(peer(kind, loop=loop)), None
            return
        csms = stack.enter_context(peer("overlay", loop=loop))
        node = stack.enter_context(peer("node", "--upstream", csms.url, loop=loop))
        yield node, csms


def per_connection(kind: str, total: int) -> dict[str, float]:
    """KiB per idle station for the holder (and the CSMS behind a node), RSS in MiB."""
    with holder(kind) as (p, behind), idle_clients(p.url, [WARMUP], "W"):
        time.sleep(0.5)
        before = rss_bytes(p.pid)
        behind_before = rss_bytes(behind.pid) if behind else 0
        with idle_clients(p.url, chunks(total, PER_PROCESS), "S") as connected:
            if sum(connected) != total:
                raise RuntimeError(f"only {sum(connected)} of {total} stations connected")
            time.sleep(1.0)
            after = rss_bytes(p.pid)
            behind_after = rss_bytes(behind.pid) if behind else 0
    return {
        "kib": (after - before) / total / 1024,
        "before_mib": before / 2**20,
        "after_mib": after / 2**20,
        "behind_kib": (behind_after - behind_before) / total / 1024,
    }


def run(quick: bool) -> list[Row]:
    total = 200 if quick else 10_000
    node = per_connection("node", total)
    ours = per_connection("ours", total)
    floor = per_connection("raw", total)
    n = f"{total:,} stations"
    return [
        Row("connections", f"memory per idle station held by a node, {n}", "KiB", node["kib"],
            floor["kib"], "bare websockets", TARGET,
            note=f"node RSS {node['before_mib']:.0f} -> {node['after_mib']:.0f} MiB; the CSMS "
                 f"behind it (one overlay link) {node['behind_kib']:.1f} KiB per station"),
        Row("connections", f"memory per idle station, plain CSMS server (serve_csms), {n}",
            "KiB", ours["kib"], floor["kib"], "bare websockets", TARGET,
            note=f"RSS {ours['before_mib']:.0f} -> {ours['after_mib']:.0f} MiB"),
    ]
