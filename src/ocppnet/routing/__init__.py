"""Routing: routing table, route learning, record route, forwarding decisions (pure).

See docs/routing.md. The node feeds every decoded frame to :func:`decide` and carries out
the returned decision; nothing here does I/O or reads a clock.
"""

from ocppnet.routing.decisions import Deliver, Drop, Fanout, Forward, Hold, Reject, RouteDecision
from ocppnet.routing.filters import FilterRule, ForwardingFilter
from ocppnet.routing.forwarding import decide, frame_for_link, originate, retarget, timeout_reply
from ocppnet.routing.ids import BROADCAST, CSMS, DEFAULT_ROUTE, is_node_id
from ocppnet.routing.links import LinkInfo
from ocppnet.routing.pending import PendingRequest, PendingTable
from ocppnet.routing.table import Route, RoutingTable
from ocppnet.routing.topology import TopologyOutcome, TopologyRejection, build_announcement

__all__ = [
    "BROADCAST",
    "CSMS",
    "DEFAULT_ROUTE",
    "Deliver",
    "Drop",
    "Fanout",
    "FilterRule",
    "Forward",
    "ForwardingFilter",
    "Hold",
    "LinkInfo",
    "PendingRequest",
    "PendingTable",
    "Reject",
    "Route",
    "RouteDecision",
    "RoutingTable",
    "TopologyOutcome",
    "TopologyRejection",
    "build_announcement",
    "decide",
    "frame_for_link",
    "is_node_id",
    "originate",
    "retarget",
    "timeout_reply",
]
