"""``ocppnet node run --config node.toml`` and ``ocppnet node routes --url http://...``."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import urllib.error
import urllib.request
from typing import Any

from ocppnet.api import ApiSection
from ocppnet.cli.main import run_async
from ocppnet.config import load_section
from ocppnet.node.service import Node
from ocppnet.security.node_guard import signature_guard


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("node", help="run a networking node (local controller)")
    sub = parser.add_subparsers(dest="node_command", metavar="ACTION", required=True)
    run = sub.add_parser("run", help="start the node from its TOML configuration")
    run.add_argument("--config", required=True, help="the node's TOML file")
    run.set_defaults(func=_run)
    routes = sub.add_parser("routes", help="print a running node's routing table and links")
    routes.add_argument("--url", required=True, help="the node's HTTP address (http_port)")
    routes.add_argument("--json", action="store_true", help="print the raw JSON")
    routes.add_argument("--token", help="bearer token, when the node has [api] tokens")
    routes.set_defaults(func=_routes)


def _run(args: argparse.Namespace) -> int:
    from ocppnet.grid.node_site import load_node_file

    config, grid, security = load_node_file(args.config)  # [node.grid] and [security]
    api = load_section(args.config, "api", ApiSection, required=False)
    node = Node(config, api=api)
    if security is not None:  # [security]: the node's guard on what it forwards
        node.router.guards.append(signature_guard(security, node_id=config.id))
    return run_async(_serve(node, grid, security))


async def _serve(node: Node, grid: Any = None, security: Any = None) -> int:
    await node.start()
    site = None
    if grid is not None:
        from ocppnet.grid.node_site import NodeGridSite

        try:
            site = NodeGridSite(node, grid, security)
            await site.start()
        except BaseException:
            await node.stop()
            raise
    print(
        f"ocppnet node {node.config.id}: listening on "
        f"{'wss' if node.config.security_profile >= 2 else 'ws'}://{node.config.host}:{node.port}/"
        + (f", HTTP {node.http.url}/api/node" if node.http else ""),
        file=sys.stderr,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        if site is not None:
            await site.stop()
        await node.stop()
    return 0


def _routes(args: argparse.Namespace) -> int:
    url = args.url.rstrip("/") + "/api/node"
    token = getattr(args, "token", None)
    request = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            data = json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print(f"ocppnet node routes: cannot read {url}: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print(f"node {data['nodeId']}  listen {data.get('listen')}")
    print("links:")
    for link in data["links"]:
        print(f"  {link['link']:<24} {link['mode']:<8} {link['role']:<10} "
              f"remote={link['remoteId']} in={link['framesIn']} out={link['framesOut']}")
    print("routes:")
    for route in data["routes"]:
        expires = "-" if route["expiresIn"] is None else f"{route['expiresIn']:.0f}s"
        print(f"  {route['destination']:<24} via {route['link']:<20} {route['origin']:<9} "
              f"prio={route['priority']} weight={route['weight']} expires={expires} "
              f"{'up' if route['linkUp'] else 'DOWN'}")
    queued = {k: v for k, v in data.get("queued", {}).items() if v}
    print(f"pending={data['pending']} queued={queued or 0} counters={data['counters']}")
    return 0
