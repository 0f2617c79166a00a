"""``ocppnet cluster``: look at a scale-out CSMS from any machine that reaches its bus.

* ``ocppnet cluster frontends --bus URL [--id CSMS] [--json]`` — the live front-ends;
* ``ocppnet cluster where STATION --bus URL [--id CSMS]`` — the front-end holding it
  (exit 1 if none);
* ``ocppnet cluster events --bus URL [--id CSMS] [--kind K]... [--station S] [--new]
  [--count N]`` — the event stream as JSON lines on stdout (oldest kept first; ``--new``:
  from now; ``--count``: stop after N).

An unreachable bus or a CSMS that never joined it: one line on stderr, exit 1.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import orjson

from ocppnet.cli.main import run_async
from ocppnet.cluster.bus import BusUnavailable
from ocppnet.cluster.config import check_bus_url
from ocppnet.cluster.names import EVENT_KINDS
from ocppnet.cluster.observer import Observer
from ocppnet.errors import ConfigError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("cluster", help="look at a scale-out CSMS over its bus",
                              description="The live front-ends, where a station is, the "
                                          "event stream of a scale-out CSMS "
                                          "(docs/scale-out.md).")
    actions = p.add_subparsers(dest="cluster_command", metavar="ACTION", required=True)

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("--bus", required=True, metavar="nats://HOST:PORT", help="the NATS URL")
        q.add_argument("--id", default="CSMS", help="the CSMS id ([csms].id, default CSMS)")

    fes = actions.add_parser("frontends", help="the live front-ends")
    common(fes)
    fes.add_argument("--json", action="store_true", help="one JSON object per line")
    fes.set_defaults(func=lambda a: _run(a, _frontends))
    where = actions.add_parser("where", help="the front-end holding a station")
    where.add_argument("station")
    common(where)
    where.set_defaults(func=lambda a: _run(a, _where))
    events = actions.add_parser("events", help="the event stream as JSON lines")
    common(events)
    events.add_argument("--kind", action="append", default=[], choices=EVENT_KINDS,
                        help="only this kind (repeatable; default all)")
    events.add_argument("--station", help="only this station")
    events.add_argument("--new", action="store_true", help="only events from now on")
    events.add_argument("--count", type=int, help="stop after this many events")
    events.set_defaults(func=lambda a: _run(a, _events))


def _run(args: argparse.Namespace, action: Any) -> int:
    try:
        bus = check_bus_url(args.bus)
    except ValueError as exc:
        raise ConfigError(f"--bus: {exc}") from None
    if getattr(args, "count", None) is not None and args.count < 1:
        raise ConfigError(f"--count: expected a positive number, got {args.count}")

    async def go() -> int:
        async with Observer(bus, args.id) as observer:
            code: int = await action(args, observer)
            return code

    try:
        return run_async(go())
    except BusUnavailable as exc:
        print(f"ocppnet cluster {args.cluster_command}: --bus: {exc}", file=sys.stderr)
        return 1


async def _frontends(args: argparse.Namespace, observer: Observer) -> int:
    for lease in await observer.frontends():
        if args.json:
            print(orjson.dumps(lease.view()).decode())
        else:
            print(f"{lease.frontend_id}  stations={lease.stations}  host={lease.host} "
                  f"pid={lease.pid}  since={lease.started.isoformat()}")
    return 0


async def _where(args: argparse.Namespace, observer: Observer) -> int:
    entry, live = await observer.where(args.station)
    if entry is None:
        print(f"ocppnet cluster where: station {args.station} is not connected to any "
              "front-end", file=sys.stderr)
        return 1
    if not live:
        print(f"ocppnet cluster where: station {args.station} was on front-end "
              f"{entry.frontend_id}, which is gone", file=sys.stderr)
        return 1
    print(f"{entry.station_id}  frontend={entry.frontend_id}  version={entry.version}  "
          f"since={entry.since.isoformat()}  path={'/'.join(entry.path)}")
    return 0


async def _events(args: argparse.Namespace, observer: Observer) -> int:
    seen = 0
    async for event in observer.events(kinds=args.kind, station=args.station,
                                       new_only=args.new):
        sys.stdout.write(orjson.dumps(event).decode() + "\n")
        sys.stdout.flush()
        seen += 1
        if args.count is not None and seen >= args.count:
            break
    return 0
