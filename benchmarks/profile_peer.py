"""Profile a server under the standard load with py-spy: where does its CPU time go?

    python -m benchmarks.profile_peer ours|node|overlay|ocpp|app|app-file|ocpp-sqlite \
        [--loop uvloop] [--seconds 8]

Runs the peer under ``py-spy record`` (raw collapsed stacks, 500 Hz) while the load generator
drives 50 stations, then prints the functions with the largest self and inclusive shares.
Needs ``pip install py-spy``. Samples from start-up (imports) are part of the output; they
are small against the load window.
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from benchmarks.bench_csms import DISTINCT
from benchmarks.processes import loadgen, peer

_FRAME = re.compile(r"(.*?) \((.*?)(?::\d+)?\)$")


def _name(frame: str) -> str:
    match = _FRAME.match(frame)
    if match is None:
        return frame
    func, file = match.groups()
    for cut in ("site-packages/", "src/", "lib/python3.11/"):
        file = file.split(cut)[-1]
    return f"{file}:{func}"


def summarize(collapsed: str, top: int = 25) -> str:
    """Self and inclusive shares per function from py-spy's raw (collapsed) output."""
    own: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        names = [_name(f) for f in stack.split(";")]
        own[names[-1]] += n
        for name in set(names):
            incl[name] += n
    out = [f"{total} samples", "--- self"]
    out += [f"{100 * n / total:5.1f}% {k}" for k, n in own.most_common(top)]
    out.append("--- inclusive")
    out += [f"{100 * n / total:5.1f}% {k}" for k, n in incl.most_common(top + 15)]
    return "\n".join(out) + "\n"


#: (part, what a stack must contain) in order: the first that matches names the sample
PARTS = (
    ("start-up (imports)", ("importlib", "_bootstrap")),
    ("store batch (SQLite, on the loop)", ("LoopWorker._flush",)),
    ("store thread", ("SessionWorker._run", "Checkpointer._run")),
    ("CsmsApp handlers and message log", ("CsmsApp._dispatcher",)),
    ("schema validation", ("validate",)),
    ("websockets send (syscall)", ("send_data",)),
    ("codec", ("rpc/codec.py",)),
    ("overlay routing (Router, and the Connection under it)",
     ("node/router.py", "routing/", "node/endpoint.py")),
    ("websockets read and parse", ("websockets/",)),
    ("Connection", ("transport/connection.py",)),
)


def by_part(collapsed: str) -> str:
    """Shares of the samples after start-up by part of the server (:data:`PARTS`)."""
    counts: collections.Counter[str] = collections.Counter()
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        part = next((name for name, marks in PARTS if any(m in stack for m in marks)),
                    "event loop and the rest")
        counts[part] += int(count)
    startup = counts.pop(PARTS[0][0], 0)
    load = sum(counts.values()) or 1
    out = [f"--- by part ({load} samples after start-up, {startup} at start-up)"]
    out += [f"{100 * n / load:5.1f}% {k}" for k, n in counts.most_common()]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["ours", "node", "overlay", "ocpp", "app", "app-file",
                                         "ocpp-sqlite"])
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--raw", type=Path, help="also keep py-spy's collapsed stacks here")
    parser.add_argument("--gil", action="store_true",
                        help="sample only the thread holding the GIL (py-spy --gil): where the "
                             "Python CPU goes when the store's writer thread is busy too")
    args = parser.parse_args(argv)
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        raw = Path(tmp) / "profile.txt"
        prefix = [spy, "record", "-r", "500", "-d", str(args.seconds), "-f", "raw", "-o",
                  str(raw), *(["--gil"] if args.gil else []), "--"]
        extra: list[str] = []
        if args.kind == "node":
            csms = stack.enter_context(peer("overlay", loop=args.loop))
            extra = ["--upstream", csms.url]
        target = stack.enter_context(peer(args.kind, *extra, loop=args.loop, prefix=prefix))
        distinct = args.kind in DISTINCT  # 100,000 distinct frames take ~2 s to build
        result = loadgen(["load", "--url", target.url, "--stations", "50",
                          "--seconds", str(max(1, args.seconds - (6 if distinct else 3))),
                          "--warmup", "1", *(["--distinct"] if distinct else [])])
        target.proc.wait(args.seconds + 30)
        sys.stdout.write(f"load: {result['rate']:,.0f} calls/s (slowed by sampling)\n")
        sys.stdout.write(summarize(raw.read_text()))
        sys.stdout.write(by_part(raw.read_text()))
        if args.raw is not None:
            shutil.copyfile(raw, args.raw)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
