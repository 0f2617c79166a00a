"""A node's JSON introspection endpoint: ``GET /api/node`` answers :meth:`Node.snapshot`.

The snapshot (links, routes, pending requests, queue, counters, upstreams) is what
``ocppnet node routes`` prints and what the CSMS dashboard shows for a node (docs/node.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette

from ocppnet.transport.http import json_app

PATH = "/api/node"


def introspection_app(snapshot: Callable[[], dict[str, Any]]) -> Starlette:
    """The ASGI app serving ``snapshot()`` as JSON at :data:`PATH`."""
    return json_app({PATH: snapshot})
