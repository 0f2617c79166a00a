"""Telemetry must never delay control traffic through a node (docs/digital-twin.md).

One node (with ``[node.mirror]`` to a twin) in front of the CSMS; N telemetry stations each
send one signed batch per second (``benchmarks.telemetry_load``), which the node copies to
TWIN-1 and keeps from the CSMS; one control station makes calls one at a time (the
``latency`` generator). The control call's p99 round trip with the telemetry flowing is
compared with the same set-up where the telemetry stations are connected but silent, in the
same run. Target: p99 grows by less than 20 %.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from contextlib import ExitStack
from typing import Any

from benchmarks.processes import ROOT, _python, _stop, loadgen, peer, uvloop_available
from benchmarks.report import Row, Target

TARGET = Target("max_ratio", 1.2)


def measure(telemetry_stations: int, rate: float, seconds: float,
            warmup: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """(control-call result, telemetry generator result) for one set-up."""
    loop = "uvloop" if uvloop_available() else "asyncio"
    with ExitStack() as stack:
        csms = stack.enter_context(peer("overlay", "--upstream-id", "CSMS-1", loop=loop))
        node = stack.enter_context(peer(
            "node", "--node-id", "NODE-A", "--upstream", csms.url, "--upstream-id", "CSMS-1",
            "--mirror", "TWIN-1", loop=loop))
        sink = stack.enter_context(peer(
            "twin-sink", "--upstream", node.url, "--upstream-id", "NODE-A", loop=loop))
        errors = stack.enter_context(tempfile.TemporaryFile("w+"))
        proc = subprocess.Popen(
            _python("benchmarks.telemetry_load", [
                "--url", node.url, "--stations", str(telemetry_stations), "--rate", str(rate),
                "--seconds", str(seconds + warmup + 1.0)]),
            cwd=ROOT, stdout=subprocess.PIPE, stderr=errors, text=True)
        stack.callback(_stop, proc)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("CONNECTED "):
            errors.seek(0)
            raise RuntimeError(f"telemetry load did not start: {errors.read()[-1500:]}")
        control = loadgen([
            "load", "--url", node.url, "--stations", "1", "--seconds", str(seconds),
            "--warmup", str(warmup), f"--pid=node={node.pid}", f"--pid=twin={sink.pid}",
            f"--pid=csms={csms.pid}"])
        sent = json.loads(proc.stdout.readline() or "{}")
        proc.wait(30)
    return control, sent


def run(quick: bool) -> list[Row]:
    stations, seconds, warmup = (50, 1.0, 0.3) if quick else (1000, 10.0, 2.0)
    quiet, _ = measure(stations, 0.0, seconds, warmup)
    busy, sent = measure(stations, 1.0, seconds, warmup)
    label = f"{stations} stations x 1 batch/s"
    cpu = ", ".join(f"{k} {v:.0%}" for k, v in busy["server_cpu"].items())
    return [
        Row("twin", f"control-call p99 with telemetry vs without ({label})", "ms",
            busy["p99_ms"], quiet["p99_ms"], "telemetry silent", TARGET,
            note=f"p50 {busy['p50_ms']:.2f} vs {quiet['p50_ms']:.2f} ms; "
                 f"{sent.get('sent', 0)} batches sent; CPU with telemetry: {cpu}"),
    ]
