"""Soak: stations through one node for a long time; does anything grow that should not?

    python -m benchmarks.soak --seconds 1800 --stations 1000 --out soak/   # 30 min (default)
    python -m benchmarks.soak --seconds 30 --stations 100 --sample 5       # CI smoke

Real processes: ``ocppnet csms`` (SQLite file store) and ``ocppnet node run`` (with a
store-and-forward queue and its HTTP API); in this process, N raw WebSocket stations each send
one request every ``--period`` seconds (Heartbeat and MeterValues in turn, spread over the
period). Every ``--sample`` seconds: the node's RSS and open file descriptors, its queue depth
(``/api/v1/node``) and the p50/p99 round trip of the calls of that interval. At the end: the
slope of the node's RSS after the warm-up (least squares, MiB per hour, and relative to the
RSS), a JSON file of the samples and a PNG plot (matplotlib). The target is a flat RSS: a
slope within noise, reported as ``rss_growth`` (the fitted growth over the run after warm-up,
relative to the mean RSS).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks.frames import SUBPROTOCOL, call
from benchmarks.loadgen import percentile
from benchmarks.processes import ROOT, raise_fd_limit, rss_bytes
from benchmarks.wsclient import Station, Window, client_frame, open_station

OCPPNET = [sys.executable, "-m", "ocppnet.cli.main"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A process of ours, its stderr collected (for a clear error if it dies)."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        self.log = open(cwd / f"{args[0]}.log", "w+")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen([*OCPPNET, *args], cwd=cwd, stdout=subprocess.DEVNULL,
                                     stderr=self.log, env={**os.environ, "PYTHONPATH": str(ROOT)})

    def wait_for(self, pattern: str, limit: float = 60.0) -> re.Match[str]:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            self.log.seek(0)
            match = re.search(pattern, self.log.read())
            if match:
                return match
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.log.seek(0)
        raise RuntimeError(f"{self.proc.args}: no {pattern!r}:\n{self.log.read()[-2000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def queued(http: str) -> int:
    with urllib.request.urlopen(f"{http}/api/v1/node", timeout=5) as response:
        snapshot = json.load(response)
    return int(sum(snapshot.get("queued", {}).values()))


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (t, y)."""
    n = len(points)
    if n < 2:
        return 0.0
    mean_t = sum(t for t, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    return 0.0 if var == 0 else sum((t - mean_t) * (y - mean_y) for t, y in points) / var


async def drive(url: str, stations: int, period: float, seconds: float, sample_s: float,
                sample: Any) -> list[dict[str, Any]]:
    """Connect the stations, then send one request per station and period until the end,
    calling ``sample(latencies)`` every ``sample_s`` seconds."""
    window = Window()
    window.measuring = True
    rings = {i: [client_frame(call(f"S{i}-{n}", n).encode()) for n in range(1, 33)]
             for i in range(stations)}
    opened: list[Station] = []
    for start in range(0, stations, 100):
        opened.extend(await asyncio.gather(*(
            open_station(url, f"SOAK-{i:05d}", SUBPROTOCOL, [], window)
            for i in range(start, min(start + 100, stations)))))
    loop = asyncio.get_running_loop()
    began = loop.time()
    next_sample = began + sample_s
    samples: list[dict[str, Any]] = []
    sent = [0] * stations
    slot = period / stations
    tick = began
    while loop.time() - began < seconds:
        for index, station in enumerate(opened):
            delay = tick + index * slot - loop.time()
            if delay > 0.001:
                await asyncio.sleep(delay)
            if not station.busy and station.transport is not None:
                station.sent_at = time.perf_counter()
                station.busy = True
                station.transport.write(rings[index][sent[index] % 32])
                sent[index] += 1
            if loop.time() >= next_sample:
                latencies, window.latencies = window.latencies, []
                samples.append(sample(loop.time() - began, latencies, window.errors))
                next_sample += sample_s
        tick += period
    for station in opened:
        for done in (station.opened, station.closed):
            if not done.done():
                done.set_result(None)  # the run is over: nobody waits for these any more
        if station.transport is not None:
            station.transport.close()
    await asyncio.sleep(0.1)
    return samples


def plot(samples: list[dict[str, Any]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [s["t"] / 60 for s in samples]
    fig, axes = plt.subplots(3, 1, figsize=(9, 8), sharex=True)
    axes[0].plot(t, [s["rss_mib"] for s in samples], color="#2f6fdf")
    axes[0].set_ylabel("node RSS (MiB)")
    axes[1].plot(t, [s["fds"] for s in samples], color="#23955a", label="open FDs")
    axes[1].plot(t, [s["queued"] for s in samples], color="#d64545", label="queued")
    axes[1].legend(loc="upper left")
    axes[2].plot(t, [s["p50_ms"] for s in samples], label="p50")
    axes[2].plot(t, [s["p99_ms"] for s in samples], label="p99")
    axes[2].set_ylabel("round trip (ms)")
    axes[2].set_xlabel("minutes")
    axes[2].legend(loc="upper left")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def run(seconds: float, stations: int, period: float, sample_s: float, warmup_s: float,
        out: Path) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="ocppnet-soak-"))
    csms_port, node_port = free_port(), free_port()
    (work / "node.toml").write_text(
        f'[node]\nid = "NODE-A"\nport = {node_port}\nhttp_port = 0\nqueue = "queue.sqlite3"\n'
        f'[[node.upstreams]]\nid = "CSMS-1"\nurl = "ws://127.0.0.1:{csms_port}/ocpp"\n'
        'mode = "overlay"\n')
    servers = []
    try:
        csms = Server(["csms", "--id", "CSMS-1", "--port", str(csms_port), "--no-dashboard",
                       "--store", str(work / "csms.sqlite3")], work)
        servers.append(csms)
        csms.wait_for(r"stations and nodes:")
        node = Server(["node", "run", "--config", str(work / "node.toml")], work)
        servers.append(node)
        http = node.wait_for(r"HTTP (http://127\.0\.0\.1:\d+)").group(1)
        pid = node.proc.pid

        def sample(t: float, latencies: list[float], errors: int) -> dict[str, Any]:
            row = {"t": t, "rss_mib": rss_bytes(pid) / 2**20, "fds": open_fds(pid),
                   "queued": queued(http), "calls": len(latencies), "errors": errors,
                   "p50_ms": 1000 * percentile(latencies, 0.5),
                   "p99_ms": 1000 * percentile(latencies, 0.99)}
            sys.stderr.write(
                f"soak t={t:6.0f}s rss={row['rss_mib']:.1f}MiB fds={row['fds']} "
                f"queued={row['queued']} calls={row['calls']} p99={row['p99_ms']:.2f}ms\n")
            return row

        url = f"ws://127.0.0.1:{node_port}/ocpp"
        samples = asyncio.run(drive(url, stations, period, seconds, sample_s, sample))
    finally:
        for server in reversed(servers):
            server.stop()
    after = [(s["t"], s["rss_mib"]) for s in samples if s["t"] >= warmup_s]
    per_s = slope(after)
    mean = sum(y for _, y in after) / len(after) if after else 0.0
    span = (after[-1][0] - after[0][0]) if len(after) > 1 else 0.0
    result = {
        "stations": stations, "seconds": seconds, "period_s": period, "samples": samples,
        "rss_slope_mib_per_hour": per_s * 3600, "rss_mean_mib": mean,
        "rss_growth": (per_s * span / mean) if mean else 0.0,
        "fds_first_last": [samples[0]["fds"], samples[-1]["fds"]] if samples else [],
        "errors": samples[-1]["errors"] if samples else 0,
    }
    (out / "soak.json").write_text(json.dumps(result, indent=1))
    plot(samples, out / "soak.png",
         f"{stations} stations through one node, {seconds / 60:.0f} min: "
         f"RSS slope {result['rss_slope_mib_per_hour']:+.2f} MiB/h")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1800.0)
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--period", type=float, default=10.0,
                        help="seconds between two requests of one station")
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--warmup", type=float, default=None,
                        help="seconds left out of the slope (default: a tenth of the run)")
    parser.add_argument("--out", type=Path, default=Path("soak-results"))
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.stations < 1 or args.period <= 0 or args.sample <= 0:
        print("soak: --seconds, --stations, --period and --sample must be positive",
              file=sys.stderr)
        return 2
    raise_fd_limit()
    warmup = args.seconds / 10 if args.warmup is None else args.warmup
    result = run(args.seconds, args.stations, args.period, args.sample, warmup, args.out)
    print(f"soak: {result['stations']} stations, {args.seconds:.0f} s: node RSS "
          f"{result['rss_mean_mib']:.1f} MiB, slope {result['rss_slope_mib_per_hour']:+.2f} "
          f"MiB/h ({result['rss_growth']:+.1%} over the run after warm-up), FDs "
          f"{result['fds_first_last']}, errors {result['errors']}; {args.out / 'soak.png'}")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
