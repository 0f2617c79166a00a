"""Process plumbing: the server under test and the load generators run as separate processes.

Peers are started as ``python -m benchmarks.peers KIND ...`` and announce ``READY <port>`` on
stdout; load generators are ``python -m benchmarks.loadgen ...`` and print one JSON line. The
parent only orchestrates, so it never competes with the processes it measures. CPU time and
RSS come from ``/proc/<pid>``.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
from collections.abc import Coroutine, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def raise_fd_limit() -> int:
    """Raise this process's RLIMIT_NOFILE soft limit to the hard limit; returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def uvloop_available() -> bool:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


def run_loop(main: Coroutine[Any, Any, Any], loop: str) -> Any:
    """``asyncio.run(main)`` on the stdlib loop or on uvloop ("asyncio" | "uvloop")."""
    if loop == "uvloop":
        import uvloop

        return uvloop.run(main)
    return asyncio.run(main)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    """Resident set size of ``pid`` (VmRSS in /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


class Peer:
    """A running server subprocess: ``pid``, ``port``, ``url``."""

    def __init__(self, proc: subprocess.Popen[str], port: int, kind: str) -> None:
        self.proc = proc
        self.port = port
        self.kind = kind

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"


def _python(module: str, args: Sequence[str], prefix: Sequence[str] = ()) -> list[str]:
    return [*prefix, sys.executable, "-m", module, *args]


@contextmanager
def peer(
    kind: str, *args: str, loop: str = "asyncio", prefix: Sequence[str] = ()
) -> Iterator[Peer]:
    """Start ``python -m benchmarks.peers KIND --loop LOOP ARGS`` and wait for its port."""
    cmd = _python("benchmarks.peers", [kind, "--loop", loop, *args], prefix)
    with tempfile.TemporaryFile("w+") as errors:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=errors, text=True)

        def failure(what: str) -> RuntimeError:
            errors.seek(0)
            return RuntimeError(f"peer {kind} {what} ({proc.poll()}): {errors.read()[-2000:]}")

        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()  # the peer prints READY or dies
            while line and not line.startswith("READY "):  # a wrapping profiler's chatter
                line = proc.stdout.readline()
            if not line.startswith("READY "):
                raise failure("did not start")
            yield Peer(proc, int(line.split()[1]), kind)
            if proc.poll() not in (None, 0):  # 0: a profiler wrapping the peer finished
                raise failure("died")
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def loadgen(args: Sequence[str], timeout: float = 300.0) -> dict[str, Any]:
    """Run one load generator process to completion; its JSON result."""
    cmd = _python("benchmarks.loadgen", args)
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed ({done.returncode}): {done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@contextmanager
def idle_clients(url: str, counts: Sequence[int], prefix: str) -> Iterator[list[int]]:
    """Processes holding ``counts[i]`` idle stations each; yields once all are connected."""
    with ExitStack() as stack:
        procs = []
        for i, n in enumerate(counts):
            cmd = _python(
                "benchmarks.loadgen",
                ["idle", "--url", url, "--stations", str(n), "--prefix", f"{prefix}{i}x"],
            )
            errors = stack.enter_context(tempfile.TemporaryFile("w+"))
            proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=errors,
                                    text=True)
            stack.callback(_stop, proc)
            procs.append((proc, errors))
        connected = []
        for proc, errors in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line.startswith("CONNECTED "):
                errors.seek(0)
                raise RuntimeError(
                    f"idle client failed (exit code {proc.wait()}): {errors.read()[-1500:]}"
                )
            connected.append(int(line.split()[1]))
        yield connected


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait()
