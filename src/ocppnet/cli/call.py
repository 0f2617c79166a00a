"""``ocppnet call --csms URL --token T STATION ACTION '{json}'``: one OCPP call to a station,
through the CSMS's operator API (``POST /api/v1/stations/{id}/call``).

Prints the station's response as JSON on stdout. Exit codes: 0 answered; 1 the station
answered with a CALLERROR (its errorCode on stderr, the CALLERROR as JSON on stdout); 2 bad
input or refused by the API (401, 403, 404, 422: the API's message on stderr); 3 the CSMS
cannot be reached, or the station did not answer in time (504) or the link broke (502).
The token may come from ``$OCPPNET_TOKEN`` so that it does not show in the process list.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

EXIT_CALLERROR, EXIT_REFUSED, EXIT_UNREACHABLE = 1, 2, 3


def register(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "call", help="send one OCPP call to a station through the CSMS's operator API",
        description="Send ACTION with PAYLOAD to STATION (any version, also behind nodes) "
                    "and print the station's response JSON.")
    p.add_argument("--csms", default=os.environ.get("OCPPNET_CSMS", "http://127.0.0.1:8080"),
                   help="the CSMS's HTTP address (default $OCPPNET_CSMS or "
                        "http://127.0.0.1:8080)")
    p.add_argument("--token", default=os.environ.get("OCPPNET_TOKEN"),
                   help="bearer token with scope operator (default $OCPPNET_TOKEN)")
    p.add_argument("--timeout", type=float, help="seconds the CSMS waits for the station")
    p.add_argument("station", help="station id")
    p.add_argument("action", help="OCPP action, e.g. Reset")
    p.add_argument("payload", nargs="?", default="{}",
                   help="JSON object, or @file.json (default {})")
    p.set_defaults(func=run)


class CallFailed(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def read_payload(text: str) -> dict[str, Any]:
    """The payload argument: inline JSON or ``@file``; CallFailed names what is wrong."""
    source = "payload"
    if text.startswith("@"):
        source = text[1:]
        try:
            text = Path(source).read_text("utf-8")
        except OSError as exc:
            raise CallFailed(EXIT_REFUSED, f"{source}: cannot read: {exc.strerror}") from None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise CallFailed(EXIT_REFUSED, f"{source}: not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise CallFailed(EXIT_REFUSED, f"{source}: expected a JSON object, got "
                         f"{type(value).__name__}")
    return value


def post_call(base: str, token: str | None, station: str, body: dict[str, Any],
              wait: float) -> dict[str, Any]:
    """POST the call; returns the response payload or raises CallFailed."""
    url = f"{base.rstrip('/')}/api/v1/stations/{urllib.parse.quote(station, safe='')}/call"
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=wait) as response:
            answer: dict[str, Any] = json.load(response)
            return answer
    except urllib.error.HTTPError as exc:
        raise failure(exc.code, exc.read()) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CallFailed(EXIT_UNREACHABLE, f"cannot reach {base}: {reason}") from None


def failure(status: int, raw: bytes) -> CallFailed:
    try:
        body = json.loads(raw)
    except ValueError:
        body = {}
    detail = body.get("detail") if isinstance(body, dict) else None
    detail = detail or raw.decode("utf-8", "replace")[:200] or f"HTTP {status}"
    if status == 502 and body.get("error") == "call_error":
        print(json.dumps({k: body.get(k) for k in
                          ("errorCode", "errorDescription", "errorDetails")}))
        return CallFailed(EXIT_CALLERROR, f"{body.get('errorCode')}: {detail}")
    code = EXIT_UNREACHABLE if status >= 500 else EXIT_REFUSED
    return CallFailed(code, f"HTTP {status}: {detail}")


def run(args: argparse.Namespace) -> int:
    try:
        payload = read_payload(args.payload)
        body: dict[str, Any] = {"action": args.action, "payload": payload}
        if args.timeout is not None:
            body["timeout"] = args.timeout
        wait = (args.timeout or 60.0) + 10.0
        answer = post_call(args.csms, args.token, args.station, body, wait)
    except CallFailed as exc:
        print(f"ocppnet call: {exc}", file=sys.stderr)
        return exc.code
    print(json.dumps(answer, indent=2))
    return 0
