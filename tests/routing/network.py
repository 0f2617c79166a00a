"""A socket-free network of routers and stations that executes routing decisions.

Used by the multi-hop and property tests: every hop runs the real ``decide``; wires are
pairs of link ids; a router's application answers CALLs for itself and applies topology.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ocppnet.routing import (
    Deliver,
    Drop,
    Fanout,
    Forward,
    ForwardingFilter,
    Hold,
    LinkInfo,
    PendingTable,
    Reject,
    RouteDecision,
    RoutingTable,
    TopologyRejection,
    build_announcement,
    decide,
    originate,
)
from ocppnet.routing.topology import ACTION as TOPOLOGY
from ocppnet.rpc.frames import Call, CallError, CallResult, Frame


@dataclass
class Router:
    node_id: str
    hop_limit: int
    aliases: frozenset[str] = frozenset()
    filters: ForwardingFilter = field(default_factory=ForwardingFilter)
    answer: bool = True
    table: RoutingTable = field(default_factory=lambda: RoutingTable(learned_ttl=300.0))
    pending: PendingTable = field(default_factory=PendingTable)
    delivered: list[Frame] = field(default_factory=list)
    local_replies: list[CallError] = field(default_factory=list)
    held: list[Hold] = field(default_factory=list)
    drops: list[str] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)


@dataclass
class Station:
    station_id: str
    node_id: str
    link_id: str
    received: list[Frame] = field(default_factory=list)


class Network:
    def __init__(self, *, hop_limit: int = 16) -> None:
        self.hop_limit = hop_limit
        self.now = 0.0
        self.routers: dict[str, Router] = {}
        self.stations: dict[str, Station] = {}
        self.wires: dict[tuple[str, str], tuple[str, str]] = {}
        self.forwards: Counter[tuple[str, str, str]] = Counter()
        self.longest_path = 0
        self.queue: deque[tuple[str, str, Frame]] = deque()

    # --- building ------------------------------------------------------------------

    def router(self, node_id: str, **options: Any) -> Router:
        router = Router(node_id, self.hop_limit, **options)
        self.routers[node_id] = router
        return router

    def attach(self, node_id: str, station_id: str) -> str:
        link_id = f"st:{station_id}"
        self.routers[node_id].table.add_link(LinkInfo(link_id, "standard", station_id))
        self.stations[station_id] = Station(station_id, node_id, link_id)
        self.wires[(node_id, link_id)] = (f"station:{station_id}", "")
        return link_id

    def connect(self, upper: str, lower: str) -> tuple[str, str]:
        """``lower`` dials ``upper``: one overlay link, upstream seen from ``lower``."""
        down, up = f"dn:{lower}", f"up:{upper}"
        self.routers[upper].table.add_link(LinkInfo(down, "overlay", lower, "downstream"))
        self.routers[lower].table.add_link(LinkInfo(up, "overlay", upper, "upstream"))
        self.wires[(upper, down)] = (lower, up)
        self.wires[(lower, up)] = (upper, down)
        return down, up

    # --- traffic -------------------------------------------------------------------

    def station_sends(self, station_id: str, frame: Frame) -> None:
        station = self.stations[station_id]
        self.queue.append((station.node_id, station.link_id, frame))

    def originate(self, node_id: str, frame: Frame) -> None:
        router = self.routers[node_id]
        decision = originate(
            frame, node_id=node_id, table=router.table, pending=router.pending, now=self.now
        )
        self.execute(router, decision)

    def announce(self, node_id: str, neighbour: str, ttl: int = 120) -> None:
        """``node_id`` tells ``neighbour`` which destinations it offers (its downstream)."""
        router = self.routers[node_id]
        stamp = datetime.fromtimestamp(1.7e9 + self.now, UTC)
        dests = router.table.downstream_destinations(self.now)
        payload = build_announcement(node_id, dests, ttl_seconds=ttl, timestamp=stamp)
        mid = f"topo-{node_id}-{self.now}"
        self.originate(node_id, Call(mid, TOPOLOGY, payload, dest=neighbour))

    def run(self, max_steps: int = 100_000) -> int:
        steps = 0
        while self.queue:
            steps += 1
            assert steps <= max_steps, "frame storm"
            node_id, link_id, frame = self.queue.popleft()
            router = self.routers[node_id]
            link = router.table.link(link_id)
            if link is None:
                continue
            decision = decide(
                frame,
                arrived_on=link,
                node_id=node_id,
                table=router.table,
                pending=router.pending,
                now=self.now,
                filters=router.filters,
                hop_limit=router.hop_limit,
                aliases=router.aliases,
            )
            self.execute(router, decision)
        return steps

    def execute(self, router: Router, decision: RouteDecision) -> None:
        match decision:
            case Forward(link_id, frame):
                self._count(router, link_id, frame)
                self._emit(router.node_id, link_id, frame)
            case Deliver(frame, link_id):
                router.delivered.append(frame)
                self._application(router, frame, link_id)
            case Reject(None, reply, _):
                router.local_replies.append(reply)
            case Reject(link_id, reply, _):
                router.rejects.append(decision)
                self._emit(router.node_id, link_id, reply)
            case Hold():
                router.held.append(decision)
                if decision.reply is not None and decision.reply_link is not None:
                    self._emit(router.node_id, decision.reply_link, decision.reply)
            case Drop(reason):
                router.drops.append(reason)
            case Fanout(decisions):
                for each in decisions:
                    self.execute(router, each)

    def _application(self, router: Router, frame: Frame, link_id: str | None) -> None:
        if not isinstance(frame, Call) or not router.answer:
            return
        payload: dict[str, Any] = {"answeredBy": router.node_id}
        if frame.action == TOPOLOGY and link_id is not None:
            outcome = router.table.apply_topology(frame.payload, link_id, self.now)
            if isinstance(outcome, TopologyRejection):
                reply = CallError(
                    frame.message_id,
                    outcome.error_code,
                    outcome.description,
                    {},
                    dest=frame.path[0],
                )
                self.originate(router.node_id, reply)
                return
            payload = {}
        self.originate(router.node_id, CallResult(frame.message_id, payload, dest=frame.path[0]))

    def _emit(self, node_id: str, link_id: str, frame: Frame) -> None:
        peer, peer_link = self.wires[(node_id, link_id)]
        if peer.startswith("station:"):
            station = self.stations[peer.removeprefix("station:")]
            station.received.append(frame)
            if isinstance(frame, Call):
                answer = CallResult(frame.message_id, {"station": station.station_id})
                self.queue.append((station.node_id, station.link_id, answer))
        else:
            self.queue.append((peer, peer_link, frame))

    def _count(self, router: Router, link_id: str, frame: Frame) -> None:
        """Forwards per (frame type, message id, station involved)."""
        if frame.dest is None:
            link = router.table.link(link_id)
            involved = link.remote_id if link else "?"
        else:
            involved = frame.dest if frame.dest in self.stations else frame.path[0]
        self.forwards[(type(frame).__name__, frame.message_id, involved)] += 1
        self.longest_path = max(self.longest_path, len(frame.path))
