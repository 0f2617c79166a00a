"""Prometheus metrics of the CSMS: what its event bus sees (messages by action, signature
verdicts of what stations and nodes send), the stations connected now, and — when it
accepts networking nodes — its router's families (:mod:`ocppnet.node.metrics`).

CSMS-only families: csms_messages_total{direction,message_type,action},
csms_stations_connected{version}; signature_verdicts_total{status} counts the verdict of
every incoming CALL (``unsigned`` for most).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ocppnet.api import new_registry
from ocppnet.csms.app import CsmsApp
from ocppnet.csms.events import Event, MessageSeen
from ocppnet.node.metrics import RouterMetrics
from ocppnet.node.router import Router

_TYPES = {2: "CALL", 3: "CALLRESULT", 4: "CALLERROR", 5: "CALLRESULTERROR", 6: "SEND"}


def verdict_status(signature: str | None) -> str | None:
    """``valid,unknown_key (reject: ...)`` -> ``valid,unknown_key``; None stays None. Pure."""
    if signature is None:
        return None
    return signature.split(" (", 1)[0] or "unknown"


def csms_metrics(app: CsmsApp, router: Router | None = None,
                 registry: CollectorRegistry | None = None) -> CollectorRegistry:
    """A registry (new unless given) counting ``app``'s traffic, and ``router``'s if any."""
    registry = registry if registry is not None else new_registry()
    messages = Counter("ocppnet_csms_messages", "OCPP messages the CSMS handled",
                       ["direction", "message_type", "action"], registry=registry)
    verdicts: Any = None
    if router is not None:
        verdicts = RouterMetrics(router, registry).verdicts
    else:
        verdicts = Counter("ocppnet_signature_verdicts",
                           "signature verdicts of checked requests, by status", ["status"],
                           registry=registry)
    children: dict[tuple[str, str, str], Any] = {}

    def on_event(event: Event) -> None:
        if not isinstance(event, MessageSeen):
            return
        key = (event.direction, _TYPES.get(event.message_type, str(event.message_type)),
               event.action or "")
        child = children.get(key)
        if child is None:
            child = children[key] = messages.labels(*key)
        child.inc()
        status = verdict_status(event.signature)
        if event.direction == "in" and event.message_type == 2 and status is not None:
            for part in status.split(","):
                verdicts.labels(part).inc()

    app.bus.listen(on_event)
    registry.register(_StationsCollector(app))
    return registry


class _StationsCollector(Collector):
    def __init__(self, app: CsmsApp) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("ocppnet_csms_stations_connected",
                                   "stations with a live link, by OCPP version",
                                   labels=["version"])
        counts: dict[str, int] = {}
        for link in list(self.app.core.links.values()):
            if link.is_attached:
                counts[link.version] = counts.get(link.version, 0) + 1
        for version, count in sorted(counts.items()):
            family.add_metric([version], count)
        yield family
