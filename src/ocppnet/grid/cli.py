"""``ocppnet grid run|curtail|release|status``: the DSO service and its command line.

``run --config grid.toml`` starts the service (``[participant]``, ``[security]``, ``[grid]``,
optional ``[api]``); the other verbs talk to a running service's HTTP API (``--url``, default
``http://127.0.0.1:8300``). Expected failures exit non-zero with one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any

from ocppnet.cli.main import run_async

DEFAULT_URL = "http://127.0.0.1:8300"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("grid", help="grid operator (DSO, §14a EnWG) service")
    sub = parser.add_subparsers(dest="grid_command", metavar="ACTION", required=True)
    run = sub.add_parser("run", help="start the DSO service from its TOML file")
    run.add_argument("--config", required=True, help="grid.toml")
    run.set_defaults(func=_run)

    def client(name: str, help_text: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(name, help=help_text)
        p.add_argument("--url", default=os.environ.get("OCPPNET_GRID_URL", DEFAULT_URL),
                       help=f"the service's HTTP address (default {DEFAULT_URL})")
        p.add_argument("--token", default=os.environ.get("OCPPNET_API_TOKEN"),
                       help="bearer token (or $OCPPNET_API_TOKEN)")
        p.add_argument("--json", action="store_true", help="print the raw JSON answer")
        return p

    curtail = client("curtail", "limit a site (node id) or a station")
    curtail.add_argument("--target", required=True, help="node or station id")
    curtail.add_argument("--limit-w", type=float, required=True, help="limit in W")
    curtail.add_argument("--duration", type=float, required=True, help="seconds")
    curtail.set_defaults(func=_curtail)
    release = client("release", "lift a target's limit")
    release.add_argument("--target", required=True, help="node or station id")
    release.set_defaults(func=_release)
    status = client("status", "targets, limits in force, receipts and the audit log")
    status.set_defaults(func=_status)


# --- run ----------------------------------------------------------------------------------


def _run(args: argparse.Namespace) -> int:
    from ocppnet.grid.service import load_service

    service = load_service(args.config)
    return run_async(service.run())


# --- HTTP client --------------------------------------------------------------------------


class _Failed(Exception):
    pass


def _request(args: argparse.Namespace, method: str, path: str,
             body: dict[str, Any] | None = None) -> Any:
    url = args.url.rstrip("/") + "/api/v1/grid" + path
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if args.token:
        request.add_header("Authorization", f"Bearer {args.token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:
        try:
            detail = json.load(exc).get("detail", exc.reason)
        except (ValueError, AttributeError):
            detail = exc.reason
        if isinstance(detail, dict | list):
            detail = json.dumps(detail)
        raise _Failed(f"{exc.code}: {detail}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise _Failed(f"cannot reach {url}: {getattr(exc, 'reason', exc)}") from None


def _client(args: argparse.Namespace, verb: str, method: str, path: str,
            body: dict[str, Any] | None = None) -> Any:
    try:
        return _request(args, method, path, body)
    except _Failed as exc:
        print(f"ocppnet grid {verb}: {exc}", file=sys.stderr)
        return None


def _entry_line(entry: dict[str, Any]) -> str:
    in_force = "-" if entry.get("in_force_w") is None else f"{entry['in_force_w']:.0f} W"
    proof = "proven" if entry["proven"] else f"NOT PROVEN ({entry.get('detail') or '?'})"
    return (f"{entry['target']}: {entry['action']} -> {entry['outcome']}, state "
            f"{entry.get('state') or '?'}, in force {in_force}, {proof}")


def _command_result(args: argparse.Namespace, entry: Any) -> int:
    if entry is None:
        return 1
    if args.json:
        print(json.dumps(entry, indent=2))
    else:
        print(_entry_line(entry))
    return 0 if entry["proven"] and entry["outcome"] == "Accepted" else 1


def _curtail(args: argparse.Namespace) -> int:
    body = {"target": args.target, "limitW": args.limit_w, "durationS": args.duration}
    return _command_result(args, _client(args, "curtail", "POST", "/curtail", body))


def _release(args: argparse.Namespace) -> int:
    return _command_result(args, _client(args, "release", "POST", "/release",
                                         {"target": args.target}))


def _status(args: argparse.Namespace) -> int:
    status = _client(args, "status", "GET", "/status")
    audit = _client(args, "status", "GET", "/audit?limit=10") if status is not None else None
    if status is None or audit is None:
        return 1
    if args.json:
        print(json.dumps({"status": status, "audit": audit}, indent=2))
        return 0
    print(f"operator {status['operator']}, heartbeat every {status['heartbeatPeriodS']:g} s")
    for target in status["targets"]:
        force = target["inForce"] or {}
        limit = force.get("limitW")
        last = target["measurements"][-1] if target["measurements"] else None
        print(f"  {target['id']:<12} {force.get('state', 'unknown'):<21} "
              f"limit {'-' if limit is None else f'{limit:.0f} W':<9} "
              f"{'proven' if target['proven'] else 'unproven: ' + (target['problem'] or '-')}"
              + ("" if last is None else f"  measured {last['powerW']:.0f} W at {last['at']}"))
    print("audit (newest first):")
    for entry in audit["entries"]:
        print(f"  {entry['at']:.0f} {_entry_line(entry)}")
    return 0
