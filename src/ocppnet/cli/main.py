"""The `ocppnet` command: one subcommand per part (csms, node, station, demo, keys, policy).

Each part registers its own subcommand with ``register(subparsers)``; the chosen subcommand's
function returns an exit code. Expected failures (bad configuration, a port in use) print one
line to stderr and exit non-zero, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from ocppnet.errors import OcppNetError

# Modules that provide ``register(subparsers)``; a part that is not installed is skipped.
_PARTS = (
    "ocppnet.cli.keys",
    "ocppnet.cli.policy",
    "ocppnet.csms.cli",
    "ocppnet.node.cli",
    "ocppnet.station.cli",
    "ocppnet.cli.demo",
    "ocppnet.api.cli",
    "ocppnet.cli.call",
    "ocppnet.cli.nap",
    "ocppnet.twin.cli",
    "ocppnet.cli.ocmf",
    "ocppnet.grid.cli",
    "ocppnet.webpay_service.cli",
    "ocppnet.issuer.cli",
    "ocppnet.cluster.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ocppnet",
        description="OCPP networking stack: overlay routing, end-to-end signatures, binary frames",
    )
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING, ERROR")
    parser.add_argument("--log-json", action="store_true", help="log one JSON object per line")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _PARTS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from ocppnet.cli.logs import configure_logging

    configure_logging(args.log_level, json_lines=args.log_json)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return func(args)
    except KeyboardInterrupt:
        return 130
    except OcppNetError as exc:
        print(f"ocppnet {args.command}: {exc.description or exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        # A port in use, a missing file, a refused connection: one line, no traceback.
        print(f"ocppnet {args.command}: {exc.strerror or exc}"
              f"{f' ({exc.filename})' if exc.filename else ''}", file=sys.stderr)
        return 1


def run_async(coro: Coroutine[Any, Any, int]) -> int:
    """Run a subcommand's coroutine and return its exit code."""
    return asyncio.run(coro)


if __name__ == "__main__":  # pragma: no cover
    logging.captureWarnings(True)
    sys.exit(main())
