"""Prometheus metrics of a router (a node's, or the overlay CSMS's), read without touching the
router's code: an observer counts frames, CALLERRORs and forward latency as they pass; a
collector reads links, the store-and-forward queue, guards and replay memory at scrape time.

Families (all prefixed ``ocppnet_``; docs/operations.md lists them):
connections{version,mode,role}, frames_total{direction,message_type,action},
callerrors_total{direction,code}, forward_latency_seconds, router_events_total{event},
store_forward_queue_depth{upstream}, store_forward_oldest_age_seconds{upstream},
signature_verdicts_total{status}, replay_memory_entries.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ocppnet.node.link_state import FrameEvent
from ocppnet.node.queue import ForwardQueue
from ocppnet.rpc.frames import Call, CallError, CallResult, CallResultError, Frame, Send
from ocppnet.security.context import SecurityContext
from ocppnet.security.node_guard import NodeGuard
from ocppnet.security.policy import PolicyDecision

MESSAGE_TYPES: dict[type[Any], str] = {
    Call: "CALL", CallResult: "CALLRESULT", CallError: "CALLERROR",
    CallResultError: "CALLRESULTERROR", Send: "SEND",
}
_KINDS: dict[int, str] = {int(t.message_type): name for t, name in MESSAGE_TYPES.items()}
#: Buckets for forwarding inside one process: 50 µs .. 1 s.
LATENCY_BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                   0.1, 0.25, 0.5, 1.0)
_REMEMBERED = 4096  # message ids kept to name a response's action and time a forward
_STALE_S = 5.0  # an arrival older than this is not matched with a departure


def verdict_statuses(decision: PolicyDecision) -> list[str]:
    """One status per signature checked (``valid``, ``invalid``, ``unknown_key``, ...), or
    ``unsigned``; a refused message adds ``refused``. Pure."""
    statuses = [v.status.value for v in decision.verdicts] or ["unsigned"]
    if not decision.accepted:
        statuses.append("refused")
    return statuses


class RouterMetrics:
    """``RouterMetrics(router, registry, queue=node.queue, upstreams=...)``: counts what
    ``router`` does into ``registry``."""

    def __init__(
        self,
        router: Any,
        registry: CollectorRegistry,
        *,
        queue: ForwardQueue | None = None,
        upstreams: Callable[[], Collection[str]] = tuple,
        security: Collection[SecurityContext] = (),
        wallclock: Callable[[], float] = time.time,
    ) -> None:
        self.router = router
        self.queue = queue
        self.upstreams = upstreams
        self.security = list(security)
        self.wallclock = wallclock
        self.frames = Counter("ocppnet_frames", "OCPP frames in and out of the router",
                              ["direction", "message_type", "action"], registry=registry)
        self.callerrors = Counter("ocppnet_callerrors", "CALLERROR frames by error code",
                                  ["direction", "code"], registry=registry)
        self.latency = Histogram("ocppnet_forward_latency_seconds",
                                 "time from a frame's arrival to its forwarding",
                                 buckets=LATENCY_BUCKETS, registry=registry)
        self.verdicts = Counter("ocppnet_signature_verdicts",
                                "signature verdicts of checked requests, by status",
                                ["status"], registry=registry)
        self._children: dict[tuple[str, str, str], Any] = {}
        self._errors: dict[tuple[str, str], Any] = {}
        self._actions: OrderedDict[str, str] = OrderedDict()
        self._arrivals: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._hooked: set[int] = set()
        router.observers.append(self.observe)
        self.watch_guards()
        registry.register(_StateCollector(self))

    # --- as frames pass -----------------------------------------------------------------

    def observe(self, event: FrameEvent) -> None:
        frame: Frame = event.frame
        kind = _KINDS.get(frame.message_type, "OTHER")  # also raw frames (rpc.header)
        message_id = frame.message_id
        if isinstance(frame, Call | Send):
            action = frame.action
            self._remember(self._actions, message_id, action)
        else:
            action = self._actions.get(message_id, "")
        key = (event.direction, kind, action)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.frames.labels(*key)
        child.inc()
        if isinstance(frame, CallError):
            code_key = (event.direction, frame.error_code)
            errors = self._errors.get(code_key)
            if errors is None:
                errors = self._errors[code_key] = self.callerrors.labels(*code_key)
            errors.inc()
        now = time.perf_counter()
        arrival_key = (kind, message_id)
        if event.direction == "in":
            self._remember(self._arrivals, arrival_key, now)
        else:
            arrived = self._arrivals.pop(arrival_key, None)
            if arrived is not None and now - arrived < _STALE_S and not (
                frame.path and frame.path[0] == self.router.node_id
            ):
                self.latency.observe(now - arrived)

    @staticmethod
    def _remember(table: OrderedDict[Any, Any], key: Any, value: Any) -> None:
        table[key] = value
        table.move_to_end(key)
        if len(table) > _REMEMBERED:
            table.popitem(last=False)

    # --- signature verdicts -------------------------------------------------------------

    def count_verdict(self, decision: PolicyDecision) -> None:
        for status in verdict_statuses(decision):
            self.verdicts.labels(status).inc()

    def watch_guards(self) -> None:
        """Count the verdicts of every signature guard on the router (also ones added after
        this object was made: called again at each scrape)."""
        for guard in self.router.guards:
            if isinstance(guard, NodeGuard) and id(guard) not in self._hooked:
                self._hooked.add(id(guard))
                previous = guard.on_verdict

                def hook(call: Call, decision: PolicyDecision,
                         previous: Any = previous) -> None:
                    self.count_verdict(decision)
                    if previous is not None:
                        previous(call, decision)

                guard.on_verdict = hook

    def security_contexts(self) -> list[SecurityContext]:
        contexts = {id(c): c for c in self.security}
        for guard in self.router.guards:
            if isinstance(guard, NodeGuard):
                contexts.setdefault(id(guard.security), guard.security)
        return list(contexts.values())


class _StateCollector(Collector):
    """What is read at scrape time: links, router counters, queue, replay memory."""

    def __init__(self, metrics: RouterMetrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m = self.metrics
        m.watch_guards()
        links = GaugeMetricFamily("ocppnet_connections", "attached links",
                                  labels=["version", "mode", "role"])
        counts: dict[tuple[str, str, str], int] = {}
        for attached in list(m.router.links.values()):
            key = (attached.version, attached.info.mode, attached.info.role)
            counts[key] = counts.get(key, 0) + 1
        for key, count in sorted(counts.items()):
            links.add_metric(list(key), count)
        yield links
        events = CounterMetricFamily("ocppnet_router_events",
                                     "routing outcomes (forwarded, delivered, rejected, ...)",
                                     labels=["event"])
        for name, value in sorted(dict(m.router.counters).items()):
            events.add_metric([name], value)
        yield events
        depth = GaugeMetricFamily("ocppnet_store_forward_queue_depth",
                                  "CALLs queued for an upstream that is down",
                                  labels=["upstream"])
        age = GaugeMetricFamily("ocppnet_store_forward_oldest_age_seconds",
                                "age of the oldest queued CALL (0: none)", labels=["upstream"])
        if m.queue is not None:
            now = m.wallclock()
            for upstream in sorted(set(m.upstreams()) | set(m.queue.upstreams())):
                oldest = m.queue.pending(upstream, limit=1)
                depth.add_metric([upstream], m.queue.count(upstream))
                age.add_metric([upstream],
                               max(0.0, now - oldest[0].enqueued_at) if oldest else 0.0)
        yield depth
        yield age
        replay = GaugeMetricFamily("ocppnet_replay_memory_entries",
                                   "signatures remembered against replay")
        replay.add_metric([], sum(len(c.engine.replay) for c in m.security_contexts()
                                  if c.engine.replay is not None))
        yield replay
