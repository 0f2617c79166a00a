"""``[node.mirror]``: what a node copies to an analytics participant, and to whom
(the mirror itself is :mod:`ocppnet.node.mirror`; docs/digital-twin.md)."""

from __future__ import annotations

from pydantic import Field, field_validator

from ocppnet.config import Section
from ocppnet.routing.ids import NodeId

__all__ = ["TELEMETRY_ACTIONS", "MirrorSection"]

TELEMETRY_ACTIONS = ("OpenPeriodicEventStream", "NotifyPeriodicEventStream",
                     "ClosePeriodicEventStream")


class MirrorSection(Section):
    """``[node.mirror]``: what the node copies, and to whom."""

    to: NodeId = Field(description="overlay id of the analytics participant (e.g. TWIN-1)")
    actions: tuple[str, ...] = Field(
        TELEMETRY_ACTIONS,
        description="requests of stations to copy (add MeterValues, TransactionEvent, "
                    "StatusNotification on request)")
    telemetry_to_csms: bool = Field(
        False, description="also forward NotifyPeriodicEventStream to the CSMS")
    read_only: bool = Field(True, description="refuse every request the target sends")
    queue: int = Field(10_000, description="copies waiting at most; more are shed and counted")

    @field_validator("queue")
    @classmethod
    def _queue(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be >= 1")
        return value
