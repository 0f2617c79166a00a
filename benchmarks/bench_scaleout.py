"""Scale-out: idle stations held by many CSMS front-ends on one machine, presence look-ups,
and calls/s with 1, 2 and 4 front-ends (per CPU-second: the machine has 2 cores).

Every front-end is a real ``ocppnet csms --bus nats://... --store postgresql://...`` process
(tests/cluster/processes.py starts nats-server, PostgreSQL and the front-ends); without the
scale-out core (no ``--bus``) the same harness runs plain front-ends on a shared PostgreSQL,
and the presence rows are left out. Idle stations come from ``benchmarks.loadgen idle``
processes, each bound to its own 127.0.0.x source address (one address gives ~28,000
ephemeral ports) and holding at most ~12,500 sockets (RLIMIT_NOFILE hard limit 20,000 per
process). Memory per station is the front-ends' RSS growth over the measured group divided by
its size (a warm-up group first: imports, caches, first allocations). Load comes from
``benchmarks.loadgen load`` (raw clients, one CALL in flight per station), one generator per
front-end; CPU time of the front-ends, nats-server and PostgreSQL from /proc.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.cluster import processes as cluster
from tests.integration.processes import READ_TOKEN

from benchmarks.loadgen import percentile
from benchmarks.processes import ROOT, _python, _stop, rss_bytes
from benchmarks.report import Row

IDLE_FRONTENDS = 8
IDLE_STATIONS = 100_000
PER_CLIENT = 12_500  # sockets per client process (RLIMIT_NOFILE 20,000)
WARMUP_PER_FRONTEND = 50
LOOKUPS = 1_000


def csms_flags() -> frozenset[str]:
    """The scale-out flags this ``ocppnet csms`` knows (--bus, --reuse-port)."""
    return frozenset({"--bus", "--reuse-port"}) if cluster.has_scaleout_core() else frozenset()


@dataclass
class Setup:
    """nats-server (None without the scale-out core), the store, the front-ends and the
    URL each group of stations should use."""

    nats: cluster.NatsServer | None
    store: str
    pg_dir: Path
    frontends: list[cluster.Frontend] = field(default_factory=list)
    shared_port: int | None = None  # SO_REUSEPORT: every front-end on this port

    def urls(self) -> list[str]:
        if self.shared_port is not None:
            return [f"ws://127.0.0.1:{self.shared_port}/ocpp"]
        return [f"ws://127.0.0.1:{fe.ws_port}/ocpp" for fe in self.frontends]

    def server_pids(self, frontends: Sequence[cluster.Frontend]) -> dict[str, int]:
        """``frontends``, nats-server and every PostgreSQL process (backends included)."""
        pids = {fe.id: fe.pid for fe in frontends}
        if self.nats is not None:
            pids["nats"] = self.nats.process.proc.pid
        for i, pid in enumerate(postgres_pids(self.pg_dir)):
            pids[f"pg{i}"] = pid
        return pids


def postgres_pids(directory: Path) -> list[int]:
    """The postmaster (its pid file) and its children (found through /proc)."""
    try:
        master = int((directory / "data" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return []
    found = [master]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master:
                found.append(int(stat.parent.name))
    return found


@contextlib.contextmanager
def backbone(directory: Path) -> Iterator[Setup]:
    """nats-server (when ``--bus`` exists) and PostgreSQL, shared by the runs below."""
    with contextlib.ExitStack() as stack:
        nats = (stack.enter_context(cluster.nats_server(directory / "nats"))
                if "--bus" in csms_flags() else None)
        pg = stack.enter_context(cluster.postgres(max_connections=300))
        yield Setup(nats, pg.url, pg.directory)


@contextlib.contextmanager
def frontends(setup: Setup, directory: Path, count: int, tag: str, *, shared: bool,
              bus: bool = True, overlay: bool = True) -> Iterator[Setup]:
    """``count`` front-ends on a fresh schema; on one port (SO_REUSEPORT) when ``shared``
    and ``--reuse-port`` exists, else on a port each; without ``bus``: plain processes;
    without ``overlay``: stations only (``overlay_allowed = false``)."""
    store = cluster.fresh_schema(setup.store, f"bench_{tag}_{int(time.time() * 1000)}")
    config = cluster.write_frontend_toml(directory / f"csms-{tag}", overlay=overlay)
    reuse = shared and "--reuse-port" in csms_flags()
    port = cluster.free_port() if reuse else 0
    nats = setup.nats if bus else None
    ids = [f"{tag}fe{i}" for i in range(1, count + 1)]
    with cluster.frontends(config, ids, store, nats.url if nats else None, port=port,
                           reuse_port=reuse) as started:
        yield Setup(nats, store, setup.pg_dir, started, port if reuse else None)


# --- idle stations --------------------------------------------------------------------------


@dataclass(frozen=True)
class Connected:
    stations: int
    retries: int  # handshakes tried again (a front-end too busy to finish one in 10 s)


@contextlib.contextmanager
def idle_stations(groups: Sequence[tuple[str, int, str]], prefix: str, *,
                  parallel: int = 50, retries: int = 20) -> Iterator[Connected]:
    """One ``loadgen idle`` process per (url, stations, source address); yields once every
    process reported (a dropped handshake is tried again, as a station would)."""
    with contextlib.ExitStack() as stack:
        procs = []
        for i, (url, n, source) in enumerate(groups):
            errors = stack.enter_context(tempfile.TemporaryFile("w+"))
            cmd = _python("benchmarks.loadgen", [
                "idle", "--url", url, "--stations", str(n), "--prefix", f"{prefix}{i}x",
                "--local-host", source, "--parallel", str(parallel),
                "--retries", str(retries)])
            proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=errors,
                                    text=True)
            stack.callback(_stop, proc)
            procs.append((proc, errors))
        stations = retried = 0
        for proc, errors in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()  # blocks until CONNECTED (or the process dies)
            if not line.startswith("CONNECTED "):
                errors.seek(0)
                noise = ("Future exception was never retrieved", "future: <Future",
                         "ConnectionError: connection lost")
                text = "".join(x for x in errors if not x.startswith(noise))
                raise RuntimeError(f"idle client failed ({proc.poll()}): {text[-1500:]}")
            stations += int(line.split()[1])
            retried += int(line.split("retries=")[1])
        yield Connected(stations, retried)


def spread(total: int, urls: Sequence[str], per_client: int, first_source: int
           ) -> list[tuple[str, int, str]]:
    """Client groups: each at most ``per_client`` stations, on its own 127.0.0.x source
    address, the URLs taken in turn."""
    groups = []
    clients = max(len(urls), -(-total // per_client))
    for i in range(clients):
        n = total // clients + (1 if i < total % clients else 0)
        groups.append((urls[i % len(urls)], n, f"127.0.0.{first_source + i}"))
    return groups


def group_ids(prefix: str, groups: Sequence[tuple[str, int, str]]) -> list[str]:
    return [f"{prefix}{i}x{j}" for i, (_, n, _) in enumerate(groups) for j in range(n)]


async def presence_latencies(setup: Setup, ids: Sequence[str], lookups: int
                             ) -> dict[str, list[float]]:
    """Seconds per KV get of the presence bucket, and per GET /api/v1/cluster/stations/{id}
    on the first front-end, for ``ids`` in random order."""
    import httpx
    import nats

    from ocppnet.cluster.names import ClusterNames

    assert setup.nats is not None
    names = ClusterNames(cluster.CSMS_ID)
    sample = random.Random(1).sample(list(ids), min(lookups, len(ids)))
    out: dict[str, list[float]] = {"kv": [], "http": [], "misses": []}
    client = await nats.connect(setup.nats.url)
    try:
        kv = await client.jetstream().key_value(bucket=names.presence_bucket)
        for station in sample:
            t0 = time.perf_counter()
            try:
                await kv.get(names.station_key(station))
            except Exception:  # nats KeyNotFoundError: counted, not timed
                out["misses"].append(1.0)
                continue
            out["kv"].append(time.perf_counter() - t0)
    finally:
        await client.close()
    headers = {"Authorization": f"Bearer {READ_TOKEN}"}
    async with httpx.AsyncClient(base_url=setup.frontends[0].http, headers=headers,
                                 timeout=30) as http:
        for station in sample:
            t0 = time.perf_counter()
            reply = await http.get(f"/api/v1/cluster/stations/{station}")
            if reply.status_code == 200:
                out["http"].append(time.perf_counter() - t0)
            else:
                out["misses"].append(1.0)
    return out


def measure_idle(fes: Setup, total: int, per_client: int, *, settle_s: float = 2.0,
                 lookups: int = LOOKUPS) -> list[Row]:
    count = len(fes.frontends)
    urls = fes.urls()
    warm = spread(WARMUP_PER_FRONTEND * count, urls, per_client, first_source=2)
    groups = spread(total, urls, per_client, first_source=2 + len(warm))
    with idle_stations(warm, "W"):
        time.sleep(settle_s / 2)
        before = {fe.id: rss_bytes(fe.pid) for fe in fes.frontends}
        t0 = time.monotonic()
        with idle_stations(groups, "S") as connected:
            took = time.monotonic() - t0
            if connected.stations != total:
                raise RuntimeError(f"only {connected.stations} of {total} stations connected")
            time.sleep(settle_s)
            after = {fe.id: rss_bytes(fe.pid) for fe in fes.frontends}
            lat = (asyncio.run(presence_latencies(fes, group_ids("S", groups), lookups))
                   if fes.nats is not None else None)
    grown = sum(after.values()) - sum(before.values())
    per_fe = ", ".join(f"{after[k] / 2**20:.0f}" for k in sorted(after))
    where = "one port (SO_REUSEPORT)" if fes.shared_port else f"{count} ports"
    n = f"{total:,} stations, {count} front-ends on {where}"
    rows = [Row("scaleout", f"memory per idle station, {n}", "KiB", grown / total / 1024,
                note=f"front-end RSS after (MiB): {per_fe}; {len(groups)} client processes "
                     f"on 127.0.0.x; connected in {took:.0f} s ({total / took:,.0f}/s), "
                     f"{connected.retries} handshakes tried again")]
    if lat is not None:
        misses = len(lat["misses"])
        for name, label in (("kv", "presence KV get"),
                            ("http", "GET /api/v1/cluster/stations/{id}")):
            samples = lat[name]
            for q, tag in ((0.50, "p50"), (0.99, "p99")):
                rows.append(Row("scaleout", f"{tag} {label}, {total:,} stations present",
                                "ms", percentile(samples, q) * 1000,
                                note=f"{len(samples)} look-ups of random stations; "
                                     f"{misses} not found"))
    return rows


# --- calls/s --------------------------------------------------------------------------------


def run_loadgens(setup: Setup, count: int, stations: int, seconds: float, warmup: float
                 ) -> dict[str, Any]:
    """One generator for each of the first ``count`` front-ends, in parallel; the first
    generator watches the CPU of those front-ends, nats-server and PostgreSQL. Returns the
    summed rate and the CPU shares."""
    driven = setup.frontends[:count]
    urls = [f"ws://127.0.0.1:{fe.ws_port}/ocpp" for fe in driven]
    pids = setup.server_pids(driven)
    procs = []
    for i, url in enumerate(urls):
        args = ["load", "--url", url, "--stations", str(stations // len(urls)),
                "--seconds", str(seconds), "--warmup", str(warmup), "--prefix", f"L{i}x"]
        if i == 0:
            args += [f"--pid={name}={pid}" for name, pid in pids.items()]
        procs.append(subprocess.Popen(_python("benchmarks.loadgen", args), cwd=ROOT,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True))
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=seconds + warmup + 120)
        if proc.returncode != 0:
            raise RuntimeError(f"load generator failed ({proc.returncode}): {err[-1500:]}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    cpu = results[0]["server_cpu"]
    fe_cpu = sum(v for k, v in cpu.items() if k in {fe.id for fe in driven})
    return {
        "rate": sum(r["rate"] for r in results),
        "errors": sum(r["errors"] for r in results),
        "p99_ms": max(r["p99_ms"] for r in results),
        "frontend_cpu": fe_cpu,
        "bus_cpu": cpu.get("nats", 0.0),
        "store_cpu": sum(v for k, v in cpu.items() if k.startswith("pg")),
        "loadgen_cpu": sum(r["loadgen_cpu"] for r in results),
    }


def measure_calls(fes: Setup, counts: Sequence[int], stations: int, seconds: float,
                  warmup: float, plain: dict[str, Any] | None = None) -> list[Row]:
    """calls/s driving the first 1, 2, 4... of ``fes`` (the others stay idle); ``plain``:
    the same load on one front-end without the bus (the cost of the bus per call)."""
    runs = {count: run_loadgens(fes, count, stations, seconds, warmup) for count in counts}
    base = runs[counts[0]]
    plain_per_cpu = (plain["rate"] / plain["frontend_cpu"]
                     if plain and plain["frontend_cpu"] else None)
    rows = []
    for count, r in runs.items():
        all_cpu = r["frontend_cpu"] + r["bus_cpu"] + r["store_cpu"]
        note = (f"{stations} stations; CPU (cores): front-ends {r['frontend_cpu']:.2f}, "
                f"nats {r['bus_cpu']:.2f}, PostgreSQL {r['store_cpu']:.2f}, load generators "
                f"{r['loadgen_cpu']:.2f}; p99 {r['p99_ms']:.1f} ms; errors {r['errors']}")
        baseline = None if count == counts[0] else base["rate"]
        rows.append(Row("scaleout", f"calls/s, {count} front-end{'s' * (count > 1)}",
                        "calls/s", r["rate"], baseline,
                        f"{counts[0]} front-end" if baseline else "", note=note))
        per_fe = r["rate"] / r["frontend_cpu"] if r["frontend_cpu"] else 0.0
        per_all = r["rate"] / all_cpu if all_cpu else 0.0
        rows.append(Row("scaleout", f"calls per front-end CPU-second, {count} front-end"
                        f"{'s' * (count > 1)}", "calls/CPU-s", per_fe, plain_per_cpu,
                        "no bus, same store" if plain_per_cpu else "",
                        note=f"with nats-server and PostgreSQL CPU: {per_all:,.0f} calls/CPU-s"))
    return rows


def run(quick: bool) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="ocppnet-scaleout-") as tmp, \
            contextlib.ExitStack() as stack:
        directory = Path(tmp)
        try:
            setup = stack.enter_context(backbone(directory))
        except cluster.Missing as exc:
            sys.stderr.write(f"   scaleout skipped: {exc}\n")
            return []
        if quick:
            with frontends(setup, directory, 2, "quick", shared=False) as fes:
                return (measure_idle(fes, 200, 100, settle_s=0.3, lookups=50)
                        + measure_calls(fes, (1, 2), 20, 0.5, 0.3))
        with frontends(setup, directory, IDLE_FRONTENDS, "idle", shared=True) as fes:
            rows = measure_idle(fes, IDLE_STATIONS, PER_CLIENT)
        with frontends(setup, directory, 1, "plain", shared=False, bus=False) as fes:
            plain = run_loadgens(fes, 1, 120, 5.0, 2.0)
        with frontends(setup, directory, 4, "calls", shared=False) as fes:
            return rows + measure_calls(fes, (1, 2, 4), 120, 5.0, 2.0, plain)
