"""The load generator: raw WebSocket clients sending pre-built OCPP frames.

Each station keeps exactly one CALL in flight (as OCPP requires): send, await the answer,
send the next. Frames are built and masked before the run (a ring of distinct message ids
per station), and replies are handled in ``data_received`` (benchmarks.wsclient), so the
generator spends far less CPU per call than the servers it drives. Calls completing inside
the measurement window (after a warm-up) are counted and their round trips recorded. The same
generator drives every peer, so only the server differs.

    python -m benchmarks.loadgen load --url ws://127.0.0.1:9000/ocpp --stations 50 --seconds 5
    python -m benchmarks.loadgen idle --url ... --stations 2500    # hold idle stations
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from benchmarks.frames import SUBPROTOCOL, call
from benchmarks.processes import cpu_seconds, raise_fd_limit, run_loop, uvloop_available
from benchmarks.wsclient import Station, Window, client_frame, open_station

RING = 32
DISTINCT_RING = 2048  # --distinct: enough that no reading repeats in a benchmark round


@dataclass(frozen=True, slots=True)
class LoadResult:
    """``rate`` calls/s in the window; ``p50_ms``/``p99_ms`` round trips; ``server_cpu``:
    CPU seconds per wall second of each watched server pid (1.0 = one core busy);
    ``loadgen_cpu`` the same for the generator itself."""

    stations: int
    calls: int
    seconds: float
    rate: float
    errors: int
    p50_ms: float
    p99_ms: float
    server_cpu: dict[str, float]
    loadgen_cpu: float


def percentile(samples: list[float], q: float) -> float:
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def station_frames(station_id: str, count: int = RING, *, distinct: bool = False) -> list[bytes]:
    """``count`` masked CALL frames with distinct message ids, Heartbeat/MeterValues
    (``distinct``: every MeterValues a new reading)."""
    return [client_frame(call(f"{station_id}-{n}", n, distinct=distinct).encode())
            for n in range(1, count + 1)]


async def open_stations(
    url: str, count: int, prefix: str, window: Window, *, ring: int = RING,
    parallel: int = 100, distinct: bool = False, local_host: str | None = None,
    retries: int = 0, indices: Sequence[int] | None = None,
) -> list[Station]:
    """Connect ``count`` stations ``<url>/<prefix><i>``, at most ``parallel`` at a time
    (from source address ``local_host`` when given: 127.0.0.x spreads ephemeral ports);
    a refused or dropped handshake is tried again up to ``retries`` times after 0.5-2 s,
    as a real station would (each retry counts in ``window.errors``); ``indices``: only
    those stations of the ``count``."""
    gate = asyncio.Semaphore(parallel)

    async def one(i: int) -> Station:
        sid = f"{prefix}{i}"
        frames = station_frames(sid, ring, distinct=distinct)
        for attempt in range(retries + 1):
            try:
                async with gate:
                    return await open_station(url, sid, SUBPROTOCOL, frames, window,
                                              local_host=local_host)
            except (ConnectionError, OSError):
                if attempt == retries:
                    raise
                window.errors += 1
                await asyncio.sleep(random.uniform(0.5, 2.0))
        raise AssertionError("unreachable")

    wanted = range(count) if indices is None else indices
    return list(await asyncio.gather(*(one(i) for i in wanted)))


async def run_load(
    url: str,
    *,
    stations: int,
    seconds: float,
    warmup: float,
    server_pids: dict[str, int] | None = None,
    prefix: str = "LG",
    distinct: bool = False,
) -> LoadResult:
    """Drive ``stations`` busy stations against ``url`` and measure a ``seconds`` window
    (``distinct``: every MeterValues a new reading, see ``frames.call``)."""
    window = Window()
    ring = DISTINCT_RING if distinct else RING
    conns = await open_stations(url, stations, prefix, window, ring=ring, distinct=distinct)
    pids = server_pids or {}
    try:
        for station in conns:
            station.send_next()
        await asyncio.sleep(warmup)
        cpu0 = {name: cpu_seconds(pid) for name, pid in pids.items()}
        own0 = time.process_time()
        t0 = time.perf_counter()
        window.measuring = True
        await asyncio.sleep(seconds)
        window.measuring = False
        elapsed = time.perf_counter() - t0
        cpu1 = {name: cpu_seconds(pid) for name, pid in pids.items()}
        own = (time.process_time() - own0) / elapsed
        window.stopped = True
        lost = [s for s in conns if s.closed.done() and s.closed.exception() is not None]
        if lost:
            raise RuntimeError(f"{len(lost)} stations lost their connection during the run")
        await asyncio.wait([s.closed for s in conns if s.busy], timeout=5)
    finally:
        for station in conns:
            if station.transport is not None:
                station.transport.abort()
    lat = window.latencies
    return LoadResult(
        stations=stations,
        calls=window.calls,
        seconds=elapsed,
        rate=window.calls / elapsed,
        errors=window.errors,
        p50_ms=percentile(lat, 0.50) * 1000,
        p99_ms=percentile(lat, 0.99) * 1000,
        server_cpu={name: (cpu1[name] - cpu0[name]) / elapsed for name in pids},
        loadgen_cpu=own,
    )


async def hold_idle(url: str, stations: int, prefix: str, local_host: str | None = None,
                    parallel: int = 100, retries: int = 0) -> None:
    """Connect ``stations``, send one Heartbeat each, report, then hold until terminated.
    A station whose link is dropped before its Heartbeat is answered connects again (up to
    ``retries`` rounds), as a real one would; reconnects count as retries."""
    window = Window()
    window.stopped = True  # one call each, no follow-up
    todo: list[int] = list(range(stations))
    held: list[Station] = []
    dropped = 0
    for _ in range(retries + 1):
        conns = await open_stations(url, stations, prefix, window, ring=1, indices=todo,
                                    local_host=local_host, parallel=parallel, retries=retries)
        for station in conns:
            station.send_next()
        answered = await asyncio.wait_for(
            asyncio.gather(*(s.closed for s in conns), return_exceptions=True), 900)
        held += [s for s, r in zip(conns, answered, strict=True) if r is None]
        todo = [i for i, r in zip(todo, answered, strict=True) if r is not None]
        dropped += len(todo)
        if not todo:
            break
    if todo:
        raise RuntimeError(f"{len(todo)} of {stations} stations could not be held")
    sys.stdout.write(f"CONNECTED {len(held)} retries={window.errors + dropped}\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    os._exit(0)  # closing thousands of sockets one by one is not what we measure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["load", "idle"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--stations", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--prefix", default="LG")
    parser.add_argument("--local-host", default=None, metavar="ADDRESS",
                        help="source address of the idle stations' connections (127.0.0.x)")
    parser.add_argument("--parallel", type=int, default=100,
                        help="idle: handshakes in progress at most")
    parser.add_argument("--retries", type=int, default=0,
                        help="idle: tries again after a refused or dropped handshake")
    parser.add_argument("--pid", action="append", default=[], metavar="NAME=PID",
                        help="server process whose CPU time to measure (repeatable)")
    parser.add_argument("--distinct", action="store_true",
                        help="every MeterValues a new reading (stored, not a repeat)")
    args = parser.parse_args(argv)
    raise_fd_limit()
    loop = "uvloop" if uvloop_available() else "asyncio"
    if args.mode == "idle":
        run_loop(hold_idle(args.url, args.stations, args.prefix, args.local_host,
                           args.parallel, args.retries), loop)
        return 0
    pids = {name: int(pid) for name, pid in (p.split("=", 1) for p in args.pid)}
    result = run_loop(
        run_load(args.url, stations=args.stations, seconds=args.seconds, warmup=args.warmup,
                 server_pids=pids, prefix=args.prefix, distinct=args.distinct),
        loop,
    )
    sys.stdout.write(json.dumps(asdict(result)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
