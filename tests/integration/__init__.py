"""Loopback tests across several parts (CSMS, nodes, stations, services)."""

from __future__ import annotations

import asyncio

from ocppnet.node.config import parse_config
from ocppnet.node.service import Node


async def stop_node(node: Node) -> None:
    """``node.stop()``, robust against a Python 3.11 race: ``asyncio.wait_for`` in
    ``Node._announce_loop`` swallows a cancellation that arrives in the loop iteration in
    which the topology changed (a link went down), so the stop would wait forever. Let
    link-down handlers run first, and cancel again whatever still ignores its cancellation."""
    await asyncio.sleep(0.05)
    stopping = asyncio.ensure_future(node.stop())
    while not stopping.done():
        await asyncio.wait({stopping}, timeout=1.0)
        for task in asyncio.all_tasks():
            if task.cancelling() and not task.done() and task is not stopping:
                task.cancel()
    stopping.result()


def overlay_node(node_id: str, upstream_id: str, port: int) -> Node:
    """A node with one overlay upstream at ``ws://127.0.0.1:{port}/ocpp`` (not started)."""
    return Node(parse_config({"node": {"id": node_id, "upstreams": [
        {"id": upstream_id, "url": f"ws://127.0.0.1:{port}/ocpp", "mode": "overlay"}]}}))
