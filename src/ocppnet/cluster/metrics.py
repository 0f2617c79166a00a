"""Prometheus families of one front-end (on the CSMS's ``/metrics``):

* ``ocppnet_cluster_presence_writes_total{op,result}`` — puts/deletes of presence entries
  (result ok, superseded: a newer link elsewhere owns the key, failed: retried);
* ``ocppnet_cluster_presence_lookups_total{result}`` — found, absent, error (reads of the
  bucket; a cached lookup is not one); ``ocppnet_cluster_presence_stale_total`` — entries
  found naming a front-end without a live lease (removed);
* ``ocppnet_cluster_remote_calls_total{outcome}`` — calls this front-end sent to the one
  holding the station (ok, call_error, timeout, unknown_client, gone, connection_closed,
  error); ``ocppnet_cluster_served_calls_total{outcome}`` — the ones it ran for others;
* ``ocppnet_cluster_events_published_total``, ``ocppnet_cluster_events_dropped_total`` —
  event-bus events sent to JetStream, and dropped because the buffer was full;
* ``ocppnet_cluster_presence_pending``, ``ocppnet_cluster_stations_held`` — gauges.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge

from ocppnet.api import new_registry
from ocppnet.cluster.rpc import FrontendGone
from ocppnet.errors import CallErrorReceived, CallTimeout, ConnectionClosed, UnknownClient


def outcome_of(exc: BaseException | None) -> str:
    """The ``outcome`` label of a call that ended with ``exc`` (None: a response). Pure."""
    if exc is None:
        return "ok"
    if isinstance(exc, CallErrorReceived):
        return "call_error"
    if isinstance(exc, CallTimeout):
        return "timeout"
    if isinstance(exc, ConnectionClosed):
        return "connection_closed"
    if isinstance(exc, UnknownClient):
        return "gone" if isinstance(exc, FrontendGone) else "unknown_client"
    return "error"


class ClusterMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else new_registry()
        r = self.registry
        self.presence_writes = Counter(
            "ocppnet_cluster_presence_writes", "presence entries written, by op and result",
            ["op", "result"], registry=r)
        self.presence_lookups = Counter(
            "ocppnet_cluster_presence_lookups", "presence lookups, by result", ["result"],
            registry=r)
        self.presence_stale = Counter(
            "ocppnet_cluster_presence_stale",
            "entries found naming a front-end without a live lease (then removed)", registry=r)
        self.remote_calls = Counter(
            "ocppnet_cluster_remote_calls",
            "calls sent to the front-end holding the station, by outcome", ["outcome"],
            registry=r)
        self.served_calls = Counter(
            "ocppnet_cluster_served_calls",
            "calls run here for other front-ends, by outcome", ["outcome"], registry=r)
        self.events_published = Counter(
            "ocppnet_cluster_events_published", "events sent to JetStream", registry=r)
        self.events_dropped = Counter(
            "ocppnet_cluster_events_dropped",
            "events dropped because the bus buffer was full", registry=r)
        self.presence_pending = Gauge(
            "ocppnet_cluster_presence_pending", "presence writes not yet done", registry=r)
        self.stations_held = Gauge(
            "ocppnet_cluster_stations_held", "stations this front-end announces", registry=r)

    def watch(self, pending: Callable[[], float], held: Callable[[], float]) -> None:
        self.presence_pending.set_function(pending)
        self.stations_held.set_function(held)
