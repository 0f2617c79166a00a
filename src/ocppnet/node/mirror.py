"""A node's mirror: copies of selected station traffic to an analytics participant (a digital
twin), as SEND frames of our own ``MirrorData`` message, without a man in the middle.

The station's own payload travels inside unchanged, with the station's signatures, so the
twin verifies the station, not the node (docs/digital-twin.md). Mirroring never delays OCPP
control traffic: copies wait in a bounded queue that a task of lower priority drains (it
yields after every frame); when the queue is full the copy is shed and counted, per stream,
and the count rides in the stream's next mirrored batch (``shed``) and in the node's status.

Configured by ``[node.mirror]``; the target is read-only by default (every request it sends
is refused by this node's filter) and telemetry streams by default no longer go to the CSMS.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ocppnet.node.link_state import FrameEvent
from ocppnet.node.mirror_config import MirrorSection
from ocppnet.node.router import Router
from ocppnet.routing import ForwardingFilter
from ocppnet.routing.filters import FilterRule
from ocppnet.rpc.frames import Call, Send

__all__ = ["MIRROR_ACTION", "Mirror", "MirrorSection"]

log = logging.getLogger("ocppnet.node.mirror")

MIRROR_ACTION = "MirrorData"

#: ``sign(payload) -> signed payload``: the node's own signature on the copy (optional).
Signer = Callable[[dict[str, Any]], dict[str, Any]]


def _stream_of(action: str, payload: Mapping[str, Any]) -> int | None:
    if action == "NotifyPeriodicEventStream":
        stream = payload.get("id")
    elif action == "OpenPeriodicEventStream":
        data = payload.get("constantStreamData")
        stream = data.get("id") if isinstance(data, Mapping) else None
    else:
        return None
    return stream if isinstance(stream, int) and not isinstance(stream, bool) else None


class Mirror:
    """Observer + queue + sender; see the module docstring."""

    def __init__(self, router: Router, section: MirrorSection, *, sign: Signer | None = None):
        self.router = router
        self.section = section
        self.sign = sign
        self.actions = frozenset(section.actions)
        self.queue: deque[tuple[str, str, dict[str, Any], float, int]] = deque()
        """(station, action, payload, received at, copies of its stream shed before it)."""
        self.shed: dict[tuple[str, int | None], int] = {}
        """Copies shed since the last one queued, per (station, stream): the count rides
        with the next copy of the same stream that is queued (so it follows the gap)."""
        self.counters = {"mirrored": 0, "shed": 0, "failed": 0}
        self._ready = asyncio.Event()
        self._ids = itertools.count(1)

    def filters(self, base: ForwardingFilter) -> ForwardingFilter:
        """``base`` with the mirror's rules first: the target may not command anything, and
        telemetry streams stay away from the CSMS unless configured otherwise."""
        rules: list[FilterRule] = []
        if self.section.read_only:
            rules.append(FilterRule("*", "reject", source=self.section.to))
        if not self.section.telemetry_to_csms:
            rules.append(FilterRule("NotifyPeriodicEventStream", "drop", direction="up",
                                    dest="CSMS"))
        return ForwardingFilter((*rules, *base.rules), base.default)

    def observe(self, event: FrameEvent) -> None:
        """Router observer: queue a copy of a station's request (never blocks)."""
        frame = event.frame
        if event.direction != "in" or not isinstance(frame, Call | Send):
            return
        if frame.action not in self.actions:
            return
        attached = self.router.links.get(event.link_id)
        if attached is None or attached.info.mode != "standard":
            return  # copied once, by the station's own node
        station = attached.info.remote_id
        key = (station, _stream_of(frame.action, frame.payload))
        if len(self.queue) >= self.section.queue:
            self.shed[key] = self.shed.get(key, 0) + 1
            self.counters["shed"] += 1
            return
        self.queue.append((station, frame.action, frame.payload, event.at,
                           self.shed.pop(key, 0)))
        self._ready.set()

    async def run(self) -> None:
        """Send queued copies until cancelled, yielding to the event loop after each one."""
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self.queue:
                await self._send(*self.queue.popleft())
                await asyncio.sleep(0)  # control traffic first

    async def _send(self, station: str, action: str, payload: dict[str, Any],
                    at: float, shed: int) -> None:
        body: dict[str, Any] = {
            "source": station, "node": self.router.node_id, "action": action,
            "receivedAt": datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z"),
            "payload": payload, "shed": shed,
        }
        if self.sign is not None:
            body = self.sign(body)
        frame = Send(f"{self.router.node_id}-m{next(self._ids)}", MIRROR_ACTION, body,
                     dest=self.section.to)
        error = await self.router.send_local(frame, "2.1")
        if error is None:
            self.counters["mirrored"] += 1
            return
        self.counters["failed"] += 1
        # this copy (a batch) and the count it carried are lost: the next copy says so
        lost = shed + (1 if action == "NotifyPeriodicEventStream" else 0)
        if lost:
            key = (station, _stream_of(action, payload))
            self.shed[key] = self.shed.get(key, 0) + lost
        log.info("event=mirror_failed node=%s to=%s action=%s reason=%r", self.router.node_id,
                 self.section.to, action, error.error_description)

    def status(self) -> dict[str, Any]:
        return {"to": self.section.to, "queued": len(self.queue), **self.counters}


class MirrorCollector(Collector):
    """The mirror on the node's ``/metrics``: ``ocppnet_mirror_copies{outcome}`` (mirrored,
    shed, failed) and ``ocppnet_mirror_queue_depth``, read at scrape time."""

    def __init__(self, mirror: Mirror) -> None:
        self.mirror = mirror

    def collect(self) -> Iterator[Metric]:
        copies = CounterMetricFamily("ocppnet_mirror_copies",
                                     "copies of station requests for the mirror's target",
                                     labels=["to", "outcome"])
        for outcome in ("mirrored", "shed", "failed"):
            copies.add_metric([self.mirror.section.to, outcome], self.mirror.counters[outcome])
        yield copies
        depth = GaugeMetricFamily("ocppnet_mirror_queue_depth", "copies waiting to be sent",
                                  labels=["to"])
        depth.add_metric([self.mirror.section.to], len(self.mirror.queue))
        yield depth
