"""``python -m tests.fuzz.run TARGET SECONDS [--corpus DIR]``: coverage-guided fuzzing of one
target (tests/fuzz/targets.py) with atheris (libFuzzer). New inputs that reach new code go to
the target's corpus directory; a crash is written next to it (``crash-*``) and the run fails.
Prints the executions per second at the end."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import atheris

CORPUS = Path(__file__).with_name("corpus")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target")
    parser.add_argument("seconds", type=int)
    parser.add_argument("--corpus", type=Path, default=None,
                        help="corpus directory (default tests/fuzz/corpus/TARGET)")
    args = parser.parse_args()
    with atheris.instrument_imports(include=["ocppnet"]):
        from tests.fuzz.targets import TARGETS
    if args.target not in TARGETS:
        print(f"fuzz: unknown target {args.target!r}; one of {', '.join(TARGETS)}",
              file=sys.stderr)
        return 2
    corpus = args.corpus or CORPUS / args.target
    corpus.mkdir(parents=True, exist_ok=True)
    target = TARGETS[args.target]
    argv = [sys.argv[0], str(corpus), f"-max_total_time={args.seconds}",
            f"-artifact_prefix={corpus}/", "-print_final_stats=1", "-timeout=10",
            "-rss_limit_mb=1024"]
    atheris.Setup(argv, target)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
