"""WebSocket library: the same echo-style OCPP server on ``websockets`` and on ``picows``.

Each server (benchmarks.wslib_peers) runs alone in its own process and is driven by the
suite's load generator (one CALL in flight per station), in interleaved rounds, best round
per side; reported are calls/s, calls per server CPU-second and memory per idle connection,
picows against websockets. Without picows installed the benchmark reports that it was
skipped and yields no rows (CI installs only the core dependencies).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from benchmarks.bench_connections import chunks
from benchmarks.processes import (
    ROOT,
    Peer,
    idle_clients,
    loadgen,
    rss_bytes,
    uvloop_available,
)
from benchmarks.report import Row
from benchmarks.wslib_peers import picows_available

SKIPPED = "skipped: picows not installed"
SMALL_BUFFER = 2048  # picows read buffer that still holds a typical OCPP frame


@dataclass(frozen=True, slots=True)
class Settings:
    stations: int
    seconds: float
    warmup: float
    rounds: int
    idle: int  # idle stations measured for memory
    idle_warmup: int


def settings(quick: bool) -> Settings:
    if quick:
        return Settings(stations=5, seconds=0.4, warmup=0.2, rounds=1, idle=200, idle_warmup=20)
    return Settings(stations=50, seconds=3.0, warmup=1.0, rounds=3, idle=5000, idle_warmup=100)


@contextmanager
def server(kind: str, *args: str, loop: str) -> Iterator[Peer]:
    """Start ``python -m benchmarks.wslib_peers KIND`` and wait for its ``READY <port>``."""
    cmd = [sys.executable, "-m", "benchmarks.wslib_peers", kind, "--loop", loop, *args]
    with tempfile.TemporaryFile("w+") as errors:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=errors, text=True)
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line.startswith("READY "):
                errors.seek(0)
                raise RuntimeError(f"{kind} did not start ({proc.poll()}): {errors.read()[-2000:]}")
            yield Peer(proc, int(line.split()[1]), kind)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def measure(kind: str, args: Sequence[str], loop: str, s: Settings) -> dict[str, Any]:
    """One generator run against a fresh server; its JSON result plus ``per_cpu``."""
    with server(kind, *args, loop=loop) as p:
        result = loadgen([
            "load", "--url", p.url, "--stations", str(s.stations), "--seconds", str(s.seconds),
            "--warmup", str(s.warmup), "--pid", f"server={p.pid}",
        ])
    if result["errors"]:
        raise RuntimeError(f"{kind}: {result['errors']} calls were not answered with CALLRESULT")
    cpu = result["server_cpu"]["server"]
    result["per_cpu"] = result["rate"] / cpu if cpu > 0 else 0.0
    return result


def compare(kinds: list[str], args: Sequence[str], loop: str, s: Settings) -> dict[str, Any]:
    """Interleaved rounds over ``kinds``; the best round (calls/s) of each."""
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
    for _ in range(s.rounds):
        for kind in kinds:
            runs[kind].append(measure(kind, args, loop, s))
    return {k: max(v, key=lambda r: float(r["rate"])) for k, v in runs.items()}


def idle_kib(kind: str, args: Sequence[str], loop: str, s: Settings) -> float:
    """KiB of server RSS per idle connection (handshake and one Heartbeat each)."""
    with server(kind, *args, loop=loop) as p, idle_clients(p.url, [s.idle_warmup], "W"):
        time.sleep(0.3)
        before = rss_bytes(p.pid)
        with idle_clients(p.url, chunks(s.idle, 2500), "S") as connected:
            if sum(connected) != s.idle:
                raise RuntimeError(f"{kind}: only {sum(connected)} of {s.idle} connected")
            time.sleep(0.5)
            after = rss_bytes(p.pid)
    return (after - before) / s.idle / 1024


def _note(r: dict[str, Any]) -> str:
    return (f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
            f"server CPU {r['server_cpu']['server']:.0%}")


def load_rows(got: dict[str, Any], label: str) -> list[Row]:
    pic, ws = got["picows"], got["websockets"]
    rows = [
        Row("wslib", f"calls/s, picows vs websockets ({label})", "calls/s", pic["rate"],
            ws["rate"], "websockets", note=f"picows {_note(pic)}; websockets {_note(ws)}",
            extra={"ours": pic, "baseline": ws}),
        Row("wslib", f"calls per server CPU-second, picows vs websockets ({label})",
            "calls/CPU-s", pic["per_cpu"], ws["per_cpu"], "websockets"),
    ]
    if "websockets-direct" in got:
        direct = got["websockets-direct"]
        rows.append(Row(
            "wslib", f"calls per server CPU-second, picows vs websockets direct write ({label})",
            "calls/CPU-s", pic["per_cpu"], direct["per_cpu"], "websockets direct",
            note=f"websockets direct write {direct['rate']:,.0f} calls/s, {_note(direct)}",
            extra={"baseline": direct},
        ))
    return rows


def run(quick: bool) -> list[Row]:
    if not picows_available():
        sys.stderr.write(f"   {SKIPPED}\n")
        return []
    s = settings(quick)
    loop = "uvloop" if uvloop_available() else "asyncio"
    kinds = ["websockets", "picows"] if quick else ["websockets", "websockets-direct", "picows"]
    rows = load_rows(compare(kinds, [], loop, s), f"{s.stations} stations, {loop}")
    if not quick:
        label = f"{s.stations} stations, {loop}, schema-validated"
        rows += load_rows(compare(kinds, ["--validate"], loop, s), label)
    pic, ws = idle_kib("picows", [], loop, s), idle_kib("websockets", [], loop, s)
    n = f"{s.idle:,} connections"
    rows.append(Row("wslib", f"memory per idle connection, picows vs websockets ({n})",
                    "KiB", pic, ws, "websockets", note="picows preallocates a 16 KiB read "
                    "buffer per connection (read_buffer_init_size)"))
    if not quick:
        small = idle_kib("picows", ["--read-buffer", str(SMALL_BUFFER)], loop, s)
        rows.append(Row(
            "wslib", f"memory per idle connection, picows {SMALL_BUFFER} B read buffer vs "
            f"websockets ({n})", "KiB", small, ws, "websockets"))
    return rows
