"""The routing table of a node: destination id -> link, with origin, priority, weight, expiry.

Pure and single-threaded: the node owns one table and passes ``now`` (monotonic seconds).
Precedence (docs/routing.md): origin first (connected > static > topology > learned), then
the lowest priority value, then a weighted choice that is deterministic per flow.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal, TypeAlias

from ocppnet.routing.ids import BROADCAST, CSMS, DEFAULT_ROUTE, is_node_id
from ocppnet.routing.links import LinkInfo
from ocppnet.routing.topology import (
    TopologyOutcome,
    TopologyRejection,
    parse_announcement,
)

Origin: TypeAlias = Literal["connected", "static", "topology", "learned"]

ORIGIN_RANK: Final[Mapping[str, int]] = {"connected": 0, "static": 1, "topology": 2, "learned": 3}
PINNED: Final = frozenset({"connected", "static"})
"""Origins that bind an id to its link: nobody may claim that id through another link."""
_REFRESH_SLACK: Final = 1.0
"""Seconds a learned route's expiry may lag behind the last frame heard (see learn())."""


@dataclass(frozen=True, slots=True)
class Route:
    destination: str
    link: str
    origin: Origin
    priority: int = 0
    weight: int = 1
    expires_at: float | None = None

    def live(self, now: float) -> bool:
        return self.expires_at is None or now < self.expires_at


def _flow_score(flow: str, route: Route) -> float:
    """Weighted rendezvous hashing: stable per (flow, link), proportional to weight."""
    digest = hashlib.blake2b(f"{flow}\0{route.link}".encode(), digest_size=8).digest()
    uniform = (int.from_bytes(digest, "big") + 0.5) / 2.0**64
    return -route.weight / math.log(uniform)


class RoutingTable:
    """Routes plus the registry of links that are up; see docs/routing.md for every rule."""

    def __init__(self, *, learned_ttl: float = 300.0) -> None:
        if learned_ttl <= 0:
            raise ValueError("learned_ttl must be positive")
        self.learned_ttl = learned_ttl
        self._refresh_slack = min(_REFRESH_SLACK, learned_ttl / 2)
        self._links: dict[str, LinkInfo] = {}
        self._routes: dict[str, dict[tuple[str, str], Route]] = {}
        self._by_link: dict[str, set[str]] = {}
        """Destinations with a route on each link (a link going down touches only those:
        a CSMS front-end losing 12,000 stations at once must not scan its table 12,000 times)."""
        self._topology_stamps: dict[str, datetime] = {}

    # --- links -----------------------------------------------------------------------

    @property
    def links(self) -> Mapping[str, LinkInfo]:
        """Links that are up, by link id."""
        return self._links

    def link(self, link_id: str) -> LinkInfo | None:
        return self._links.get(link_id)

    def add_link(self, link: LinkInfo) -> None:
        """Link up: register it and add the connected route to its authenticated peer."""
        if link.mode == "standard" and not is_node_id(link.remote_id):
            raise ValueError(f"station id {link.remote_id!r} is reserved")
        self._links[link.link_id] = link
        if is_node_id(link.remote_id) or link.remote_id == CSMS:
            self.add_connected(link.remote_id, link.link_id)

    def remove_link(self, link_id: str) -> list[Route]:
        """Link down: drop its connected, learned and topology routes; static ones stay."""
        self._links.pop(link_id, None)
        self._topology_stamps.pop(link_id, None)
        return self._remove_on(link_id, lambda r: r.origin != "static")

    # --- adding routes -----------------------------------------------------------------

    def add_static(
        self, destination: str, link: str, *, priority: int = 0, weight: int = 1
    ) -> Route:
        """Configured route; ``destination`` may be an id, ``CSMS`` or ``*default*``."""
        if destination == BROADCAST or not destination:
            raise ValueError(f"no route can be configured for {destination!r}")
        if weight < 1:
            raise ValueError("weight must be >= 1")
        return self._put(Route(destination, link, "static", priority, weight))

    def remove_static(self, destination: str, link: str) -> bool:
        entries = self._routes.get(destination, {})
        removed = entries.pop((link, "static"), None)
        if removed is None:
            return False
        self._unindex(removed, entries)
        return True

    def add_connected(self, destination: str, link: str) -> Route:
        """The peer ``destination`` is directly attached to ``link`` (which must be up)."""
        if link not in self._links:
            raise ValueError(f"link {link!r} is not up")
        if not (is_node_id(destination) or destination == CSMS):
            raise ValueError(f"{destination!r} cannot be a connected destination")
        return self._put(Route(destination, link, "connected"))

    def learn(self, source: str, link: str, now: float) -> Route | None:
        """Switch-style learning: ``source`` is behind ``link`` until the entry ages out.

        Refreshes the expiry, moves the entry when the id shows up on another link, and
        never touches an id bound by a connected or static route. None when nothing learned.
        An expiry moves only once it is ``_REFRESH_SLACK`` behind (the entry is returned as
        is): a busy station would otherwise cost a new Route per frame, and expired routes
        are only swept once a second anyway.
        """
        if link not in self._links or not is_node_id(source):
            return None
        entries = self._routes.get(source)
        if entries:
            if len(entries) == 1:  # the usual case: the station's own or its learned route
                (current,) = entries.values()
                if current.origin in PINNED:
                    return None
                if (
                    current.origin == "learned"
                    and current.link == link
                    and current.expires_at is not None
                    and current.expires_at + self._refresh_slack > now + self.learned_ttl
                ):
                    return current
            if any(r.origin in PINNED for r in entries.values()):
                return None
            for key in [k for k, r in entries.items() if r.origin == "learned" and r.link != link]:
                self._unindex(entries.pop(key), entries)
        return self._put(Route(source, link, "learned", expires_at=now + self.learned_ttl))

    def apply_topology(
        self, payload: Mapping[str, Any], link: str, now: float
    ) -> TopologyOutcome | TopologyRejection:
        """Install a NotifyNetworkTopology from the neighbour on ``link`` (full state).

        The announcing ``routingNode`` must be the link's peer; each destination obeys the
        same claim rule as :meth:`may_reach_via`; refused ones are listed, the rest applied.
        From a downstream link it also forgets ids learned via that link and not announced.
        """
        info = self._links.get(link)
        if info is None or not info.overlay:
            return TopologyRejection("SecurityError", f"link {link!r} cannot announce routes")
        parsed = parse_announcement(payload)
        if isinstance(parsed, TopologyRejection):
            return parsed
        if parsed.routing_node != info.remote_id:
            return TopologyRejection(
                "SecurityError",
                f"routingNode {parsed.routing_node!r} is not the peer {info.remote_id!r} of {link}",
            )
        last = self._topology_stamps.get(link)
        if last is not None and parsed.timestamp < last:
            return TopologyRejection("GenericError", "announcement older than the one in force")
        self._topology_stamps[link] = parsed.timestamp
        self._remove_on(link, lambda r: r.origin == "topology")
        accepted: list[str] = []
        withdrawn: list[str] = []
        refused: list[tuple[str, str]] = []
        for item in parsed.routes:
            reason = self._claim_refusal(item.destination, info, now, announcing=True)
            if reason is not None:
                refused.append((item.destination, reason))
            elif item.ttl_seconds == 0:
                withdrawn.append(item.destination)
            else:
                expiry = now + item.ttl_seconds
                self._put(
                    Route(item.destination, link, "topology", item.priority, item.weight, expiry)
                )
                accepted.append(item.destination)
        if info.role == "downstream":
            # full state from below: an id the child no longer offers is no longer behind it
            offered = set(accepted)
            self._remove_on(
                link, lambda r: r.origin == "learned" and r.destination not in offered)
        versions = tuple(
            (item.destination, item.version)
            for item in parsed.routes
            if item.version is not None and item.destination in accepted
        )
        return TopologyOutcome(tuple(accepted), tuple(withdrawn), tuple(refused), versions)

    def expire(self, now: float) -> list[Route]:
        """Remove learned and topology routes whose time is up; returns them."""
        return self._remove(lambda r: not r.live(now))

    # --- queries -----------------------------------------------------------------------

    def routes(self, destination: str, now: float) -> list[Route]:
        """Live routes for exactly ``destination`` (no default), best first."""
        return sorted(self._live(destination, now), key=_rank)

    def lookup(
        self, destination: str, now: float, *, flow: str = "", exclude: str | None = None
    ) -> Route | None:
        """The route for ``destination``: exact entries, else the default route.

        Routes via links that are up win over routes via links that are down (only static
        routes survive a link going down; the caller holds the frame for them). ``exclude``
        (the arriving link) is never chosen, and does not let the lookup fall back to the
        default route. Ties are split by weight, deterministically per ``flow``.
        """
        if destination == BROADCAST:
            return None
        candidates = self._live(destination, now)
        if not candidates and destination != DEFAULT_ROUTE:
            candidates = self._live(DEFAULT_ROUTE, now)
        if exclude is not None:
            candidates = [r for r in candidates if r.link != exclude]
        if not candidates:
            return None
        pool = [r for r in candidates if r.link in self._links] or candidates
        if len(pool) == 1:
            return pool[0]
        best = min(_rank(r) for r in pool)
        group = [r for r in pool if _rank(r) == best]
        if len(group) == 1:
            return group[0]
        return max(group, key=lambda r: (_flow_score(flow, r), r.link))

    def may_reach_via(self, source: str, link: str, now: float) -> bool:
        """Anti-spoofing: may a frame whose PATH[0] is ``source`` arrive on ``link``?

        Standard link: only its own station. Overlay link: its peer; ``CSMS`` only where the
        table routes ``CSMS``; an id bound (connected/static) only via its own link; an id
        with learned/topology routes only from links of the same role; a new id from any
        overlay link (that is how learning starts). Exact rule in docs/routing.md.
        """
        info = self._links.get(link)
        if info is None:
            return False
        if info.mode == "standard" or source == info.remote_id:
            return source == info.remote_id
        if source == CSMS:
            csms = self._live(CSMS, now) or self._live(DEFAULT_ROUTE, now)
            return any(r.link == link for r in csms)
        return self._claim_refusal(source, info, now, announcing=False) is None

    def _claim_refusal(
        self, dest: str, info: LinkInfo, now: float, *, announcing: bool
    ) -> str | None:
        """Why ``info``'s peer may not speak for (or announce) ``dest``; None when it may."""
        if dest in (CSMS, DEFAULT_ROUTE):
            if announcing and info.role == "upstream":
                return None
            return f"{dest} can only be announced by an upstream"
        if not is_node_id(dest):
            return f"{dest!r} is not a node id"
        routes = self._live(dest, now)
        pinned = [r for r in routes if r.origin in PINNED]
        if pinned:
            if any(r.link == info.link_id for r in pinned):
                return None
            return f"{dest} is bound to link {pinned[0].link}"
        for route in routes:
            if route.link == info.link_id:
                continue
            other = self._links.get(route.link)
            if other is None or other.role != info.role:
                return f"{dest} is known {other.role if other else 'elsewhere'} via {route.link}"
        return None

    def downstream_destinations(self, now: float) -> list[str]:
        """Node ids whose best live route goes through a downstream link (what to announce)."""
        found: list[str] = []
        for dest in self._routes:
            if not is_node_id(dest):
                continue
            route = self.lookup(dest, now, flow=dest)
            info = self._links.get(route.link) if route else None
            if info is not None and info.role == "downstream":
                found.append(dest)
        return sorted(found)

    def snapshot(self, now: float) -> list[dict[str, Any]]:
        """Every route as JSON-ready dicts, for the CLI and the HTTP endpoint."""
        rows = [r for entries in self._routes.values() for r in entries.values()]
        rows.sort(key=lambda r: (r.destination, _rank(r), r.link))
        return [
            {
                "destination": r.destination,
                "link": r.link,
                "origin": r.origin,
                "priority": r.priority,
                "weight": r.weight,
                "expiresIn": None if r.expires_at is None else max(0.0, r.expires_at - now),
                "linkUp": r.link in self._links,
            }
            for r in rows
        ]

    def links_snapshot(self) -> list[dict[str, Any]]:
        return [
            {"link": i.link_id, "mode": i.mode, "remoteId": i.remote_id, "role": i.role}
            for i in sorted(self._links.values(), key=lambda i: i.link_id)
        ]

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._routes.values())

    # --- internals ---------------------------------------------------------------------

    def _live(self, destination: str, now: float) -> list[Route]:
        entries = self._routes.get(destination)
        if not entries:
            return []
        return [r for r in entries.values() if r.live(now)]

    def _put(self, route: Route) -> Route:
        entries = self._routes.setdefault(route.destination, {})
        if route.origin in PINNED:
            for key in [k for k, r in entries.items() if r.origin == "learned"]:
                self._unindex(entries.pop(key), entries)
        entries[(route.link, route.origin)] = route
        self._by_link.setdefault(route.link, set()).add(route.destination)
        return route

    def _unindex(self, route: Route, entries: Mapping[tuple[str, str], Route]) -> None:
        """``route`` left ``entries`` (its destination's routes): drop it from the link index
        unless the destination has another route on the same link."""
        if any(link == route.link for link, _ in entries):
            return
        on_link = self._by_link.get(route.link)
        if on_link is not None:
            on_link.discard(route.destination)
            if not on_link:
                del self._by_link[route.link]

    def _remove(self, predicate: Callable[[Route], bool]) -> list[Route]:
        return self._remove_from(list(self._routes), predicate)

    def _remove_on(self, link: str, predicate: Callable[[Route], bool]) -> list[Route]:
        """Remove the routes on ``link`` that ``predicate`` selects (only that link's ids)."""
        return self._remove_from(list(self._by_link.get(link, ())),
                                 lambda r: r.link == link and predicate(r))

    def _remove_from(self, destinations: list[str],
                     predicate: Callable[[Route], bool]) -> list[Route]:
        removed: list[Route] = []
        for dest in destinations:
            entries = self._routes.get(dest)
            if entries is None:
                continue
            for key, route in list(entries.items()):
                if predicate(route):
                    removed.append(entries.pop(key))
                    self._unindex(route, entries)
            if not entries:
                del self._routes[dest]
        return removed


def _rank(route: Route) -> tuple[int, int]:
    return (ORIGIN_RANK[route.origin], route.priority)
