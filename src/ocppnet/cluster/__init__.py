"""Scale-out: many CSMS front-ends on one NATS JetStream bus and one PostgreSQL store
(docs/scale-out.md).

* :mod:`.names` — bucket, stream and subject names, id escaping (pure);
* :mod:`.presence` — leases, presence entries, what this front-end writes (pure);
* :mod:`.rpc` — the request/reply messages between front-ends (pure);
* :mod:`.cache` — the short-lived cache of presence lookups (pure);
* :mod:`.config` — the ``[cluster]`` table, bus URLs (pure);
* :class:`Frontend` (:mod:`.frontend`) — a :class:`~ocppnet.csms.app.CsmsApp` on the bus,
  built from :mod:`.bus`, :mod:`.directory`, :mod:`.remote`, :mod:`.publisher`;
* :func:`cluster_router` (:mod:`.api`) — ``/api/v1/cluster/...``;
* :class:`~.observer.Observer` and ``ocppnet cluster`` (:mod:`.cli`) — the bus read from
  any machine: live front-ends, where a station is, the event stream.
"""

from ocppnet.cluster.api import cluster_router
from ocppnet.cluster.bus import BusUnavailable
from ocppnet.cluster.config import ClusterSection, check_bus_url, default_frontend_id
from ocppnet.cluster.frontend import Frontend
from ocppnet.cluster.names import ClusterNames

__all__ = [
    "BusUnavailable",
    "ClusterNames",
    "ClusterSection",
    "Frontend",
    "check_bus_url",
    "cluster_router",
    "default_frontend_id",
]
