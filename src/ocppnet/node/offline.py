"""Which requests a node keeps while its upstream is down, and how it acknowledges them.

OCPP asks a station to deliver transaction-related messages and security events even across
outages (2.0.1 part 2, E "transaction messages when offline"; 1.6 section 4.7/4.10). A node
that queues such a request takes over that duty, so it acknowledges the request at once with
the smallest response the schema allows; the CSMS's real answer, later, is only logged.

1.6 StartTransaction is *not* kept: its response carries the transactionId that only the CSMS
can assign, so the station gets an error and keeps the message in its own offline queue.
"""

from __future__ import annotations

from typing import Any

_V2_KEPT = frozenset({"TransactionEvent", "SecurityEventNotification"})
_V16_KEPT = frozenset({"StopTransaction", "MeterValues", "SecurityEventNotification"})


def must_not_lose(version: str, action: str) -> bool:
    """True when the node queues ``action`` (of OCPP ``version``) while the upstream is down."""
    return action in (_V16_KEPT if version == "1.6" else _V2_KEPT)


def offline_ack(version: str, action: str) -> dict[str, Any]:
    """The acknowledgement the node gives for a queued request (valid per the schemas)."""
    if version == "1.6" and action == "StopTransaction":
        return {"idTagInfo": {"status": "Accepted"}}
    return {}
