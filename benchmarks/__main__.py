"""``python -m benchmarks all|<name>... [--quick] [--out DIR]``: run, print and save the table.

Exit status 1 when a benchmark crashed; a missed target is reported ("target missed") but is
not a failure. ``--quick`` is the CI smoke mode: tiny counts, all benchmarks in seconds.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from benchmarks import (
    bench_api,
    bench_connections,
    bench_csms,
    bench_deflate,
    bench_forwarding,
    bench_micro,
    bench_nap,
    bench_ocmf,
    bench_scaleout,
    bench_session,
    bench_tariffs,
    bench_twin,
    bench_webpay,
    bench_wslib,
)
from benchmarks.processes import raise_fd_limit, uvloop_available
from benchmarks.report import Row, machine, write

BENCHMARKS: dict[str, Callable[[bool], list[Row]]] = {
    "csms": bench_csms.run,
    "forwarding": bench_forwarding.run_forwarding,
    "latency": bench_forwarding.run_latency,
    "connections": bench_connections.run,
    "signatures": bench_micro.signatures,
    "codec": bench_micro.codec,
    "canonical": bench_micro.canonical,
    "wslib": bench_wslib.run,
    "deflate": bench_deflate.run,
    "api": bench_api.run,
    "nap": bench_nap.run,
    "twin": bench_twin.run,
    "ocmf": bench_ocmf.run,
    "webpay": bench_webpay.run,
    "tariffs": bench_tariffs.run,
    "scaleout": bench_scaleout.run,
    "session": bench_session.run,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="+", choices=["all", *BENCHMARKS])
    parser.add_argument("--quick", action="store_true", help="CI smoke mode (tiny counts)")
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    args = parser.parse_args(argv)
    names = list(BENCHMARKS) if "all" in args.names else list(dict.fromkeys(args.names))
    raise_fd_limit()
    started = time.monotonic()
    rows: list[Row] = []
    failures: dict[str, str] = {}
    for name in names:
        t0 = time.monotonic()
        sys.stderr.write(f"== {name}\n")
        try:
            rows.extend(BENCHMARKS[name](args.quick))
        except Exception as exc:
            traceback.print_exc()
            failures[name] = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        sys.stderr.write(f"   {name}: {time.monotonic() - t0:.1f} s\n")
    meta = {
        "mode": "quick" if args.quick else "full",
        "loop": "uvloop" if uvloop_available() else "asyncio",
        "seconds": time.monotonic() - started,
        "machine": machine(),
        "benchmarks": names,
    }
    sys.stdout.write(write(args.out, rows, failures, meta))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
