"""CSMS calls/s: our CSMS versus a CSMS written with the `ocpp` package, same load, same run.

N stations (one CALL in flight each) send Heartbeat and MeterValues (OCPP 2.0.1) to each
server in turn; every server runs alone in its own process, the generator in another. Rounds
alternate ours/theirs and keep each side's best, so background load hits both alike. Besides
calls/s we report calls per server CPU-second, which does not depend on how much of the two
cores the generator takes.

The application rows: the full ``CsmsApp`` on a SQLite file (WAL) against the `ocpp`
package plus the same SQLite writes (benchmarks/ocpp_peer.py), both under a load whose
every MeterValues is a new reading (``loadgen --distinct``), so both store each one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from benchmarks.loadgen import LoadResult, run_load
from benchmarks.peers import bench_handlers
from benchmarks.processes import loadgen, peer, uvloop_available
from benchmarks.report import Row, Target
from ocppnet.transport import serve_csms

TARGET = Target("min_ratio", 15.0)  # serve_csms vs the ocpp package (issue 19)
APP_TARGET = Target("min_ratio", 5.0)  # the full CsmsApp on a SQLite file (issue 19)
DISTINCT = ("app-file", "ocpp-sqlite")  # peers that store readings: every reading new


@dataclass(frozen=True, slots=True)
class Settings:
    stations: int
    seconds: float
    warmup: float
    rounds: int


def settings(quick: bool) -> Settings:
    if quick:
        return Settings(stations=5, seconds=0.4, warmup=0.2, rounds=1)
    return Settings(stations=50, seconds=3.0, warmup=1.0, rounds=3)


def measure(kind: str, loop: str, s: Settings) -> dict[str, Any]:
    """One run of the generator against a fresh ``kind`` peer; the generator's JSON result
    plus ``per_cpu`` (calls per server CPU-second)."""
    with peer(kind, loop=loop) as p:
        result = loadgen([
            "load", "--url", p.url, "--stations", str(s.stations), "--seconds", str(s.seconds),
            "--warmup", str(s.warmup), "--pid", f"server={p.pid}",
            *(["--distinct"] if kind in DISTINCT else []),
        ])
    if result["errors"]:
        raise RuntimeError(f"{kind}: {result['errors']} calls were not answered with CALLRESULT")
    cpu = result["server_cpu"]["server"]
    result["per_cpu"] = result["rate"] / cpu if cpu > 0 else 0.0
    return result


def best(results: list[dict[str, Any]]) -> dict[str, Any]:
    return max(results, key=lambda r: float(r["rate"]))


def compare(kinds: list[str], loop: str, s: Settings) -> dict[str, dict[str, Any]]:
    """Interleaved rounds over ``kinds``; the best round of each."""
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
    for _ in range(s.rounds):
        for kind in kinds:
            runs[kind].append(measure(kind, loop, s))
    return {k: best(v) for k, v in runs.items()}


def _note(r: dict[str, Any]) -> str:
    return (f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
            f"server CPU {r['server_cpu']['server']:.0%}")


def run(quick: bool) -> list[Row]:
    s = settings(quick)
    loops = ["uvloop", "asyncio"] if uvloop_available() else ["asyncio"]
    if quick:
        loops = loops[:1]
    rows: list[Row] = []
    by_loop: dict[str, dict[str, dict[str, Any]]] = {}
    for loop in loops:
        kinds = ["ours", "ocpp"] if loop != loops[0] else \
            ["ours", "ocpp", "app", "raw", "app-file", "ocpp-sqlite"]
        got = by_loop[loop] = compare(kinds, loop, s)
        ours, theirs = got["ours"], got["ocpp"]
        label = f"{s.stations} stations, {loop}"
        rows.append(Row(
            "csms", f"calls/s, serve_csms vs ocpp pkg ({label})", "calls/s", ours["rate"],
            theirs["rate"], "ocpp pkg", TARGET,
            note=f"ours {_note(ours)}; ocpp pkg {_note(theirs)}",
            extra={"ours": ours, "baseline": theirs},
        ))
        rows.append(Row(
            "csms", f"calls per server CPU-second ({loop})", "calls/CPU-s", ours["per_cpu"],
            theirs["per_cpu"], "ocpp pkg", TARGET,
        ))
        if "app" in got:
            app = got["app"]
            rows.append(Row(
                "csms", f"calls/s, CsmsApp (SQLite :memory:) vs ocpp pkg ({label})", "calls/s",
                app["rate"], theirs["rate"], "ocpp pkg", note=_note(app), extra={"ours": app},
            ))
            raw = got["raw"]
            rows.append(Row(
                "csms", f"calls/s, serve_csms vs raw websockets+orjson, no validation ({loop})",
                "calls/s", ours["rate"], raw["rate"], "raw floor", note=_note(raw),
                extra={"baseline": raw},
            ))
            rows += app_rows(got, label)
    if len(loops) == 2:
        fast, slow = by_loop["uvloop"]["ours"], by_loop["asyncio"]["ours"]
        rows.append(Row(
            "csms", "uvloop vs asyncio loop (serve_csms calls/s)", "calls/s", fast["rate"],
            slow["rate"], "asyncio loop",
        ))
    return rows


def app_rows(got: dict[str, dict[str, Any]], label: str) -> list[Row]:
    """The full CsmsApp on a SQLite file against the `ocpp` package with the same writes
    (the target) and against the plain `ocpp` package."""
    app, peer_sql, plain = got["app-file"], got["ocpp-sqlite"], got["ocpp"]
    return [
        Row("csms", f"calls/s, CsmsApp (SQLite file store) vs ocpp pkg + SQLite ({label})",
            "calls/s", app["rate"], peer_sql["rate"], "ocpp pkg + SQLite", APP_TARGET,
            note=f"app {_note(app)}; ocpp pkg + SQLite {_note(peer_sql)}",
            extra={"ours": app, "baseline": peer_sql}),
        Row("csms", "calls per server CPU-second, CsmsApp (SQLite file store) vs ocpp pkg"
            " + SQLite", "calls/CPU-s", app["per_cpu"], peer_sql["per_cpu"],
            "ocpp pkg + SQLite", APP_TARGET),
        Row("csms", f"calls/s, CsmsApp (SQLite file store) vs ocpp pkg ({label})", "calls/s",
            app["rate"], plain["rate"], "ocpp pkg"),
        Row("csms", "calls per server CPU-second, CsmsApp (SQLite file store) vs ocpp pkg",
            "calls/CPU-s", app["per_cpu"], plain["per_cpu"], "ocpp pkg"),
    ]


async def measure_in_process(stations: int, seconds: float, warmup: float) -> LoadResult:
    """A tiny in-process run (server and generator on one loop) for the smoke test."""
    server = await serve_csms(bench_handlers(), "127.0.0.1", 0)
    try:
        return await run_load(
            f"ws://127.0.0.1:{server.port}/ocpp", stations=stations, seconds=seconds,
            warmup=warmup,
        )
    finally:
        await server.close()
